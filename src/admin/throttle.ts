/**
 * Failed admin sign-ins per client address, counted in this isolate: after `max` wrong tokens (or
 * refused Access tokens) within `windowMs`, the address is refused, right token or not, until the
 * window ends. Checked before the credentials, so a locked-out guesser learns nothing from an
 * answer. The admin token is long and random, so this does not make guessing possible at all;
 * it keeps a script that loops on a bad token from costing anything, and it shows in the answer.
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
