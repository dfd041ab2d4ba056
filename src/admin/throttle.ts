/**
 * Failed admin sign-ins per client address, counted in this isolate: after `max` wrong tokens (or
 * refused Access tokens) within `windowMs`, further wrong ones from the address are answered 429
 * until the window ends. Only refused credentials are throttled (src/admin/auth.ts): a right one is
 * always let in, so a neighbour behind the same NAT cannot lock the admins out. The admin token is
 * long and random, so guessing is hopeless anyway; this keeps a script that loops on a bad token
 * from costing anything, and it shows in the answer.
 */
export class SignInThrottle {
  private readonly clients = new Map<string, { failures: number; since: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Seconds the client must wait before trying again; 0 when it may try now. */
  retryAfter(client: string, now = Date.now()): number {
    const entry = this.clients.get(client);
    if (!entry) return 0;
    if (now - entry.since >= this.windowMs) {
      this.clients.delete(client);
      return 0;
    }
    return entry.failures >= this.max ? Math.max(1, Math.ceil((entry.since + this.windowMs - now) / 1000)) : 0;
  }

  failed(client: string, now = Date.now()): void {
    const entry = this.clients.get(client);
    if (entry && now - entry.since < this.windowMs) {
      entry.failures++;
      return;
    }
    this.clients.delete(client);
    // Bounded memory: the oldest entry goes first (a Map iterates in insertion order).
    if (this.clients.size >= this.maxClients) {
      const oldest = this.clients.keys().next();
      if (!oldest.done) this.clients.delete(oldest.value);
    }
    this.clients.set(client, { failures: 1, since: now });
  }
}
