import { getDb } from "../db/client";
import type { Bindings } from "../env";
import { deliverBatch, log, markDead, preview, type Received } from "../events/consumer";
import { queueMessageSchema } from "../events/messages";
import { failJobFromDlq, handleJobMessage } from "../jobs/runner";
import type { JobKind } from "../lifecycle/jobs";

/**
 * The Worker's queue handler, for scim-events and scim-events-dlq (SPEC §9): event messages are
 * delivered to the site (or, from the DLQ, marked dead); job messages run the next chunk of a
 * background job (or, from the DLQ, fail it).
 */
export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<void> {
  void ctx;
  const { events, jobs } = validMessages(batch);
  // By suffix, so a per-environment queue name (scim-events-staging / -dlq) works unchanged.
  const dlq = batch.queue.endsWith("-dlq");
  for (const { msg, job } of jobs) await (dlq ? failJobFromDlq(env, job.id).then(() => msg.ack()) : runJobMessage(env, msg, job));
  if (events.length === 0) return;
  if (dlq) await markDead(events, getDb(env.DB));
  else await deliverBatch(events, env);
}

/** Validated messages; anything else is poison: logged and acked, never retried forever. */
function validMessages(batch: MessageBatch<unknown>): {
  events: Received[];
  jobs: { msg: Message<unknown>; job: { id: string; kind?: JobKind } }[];
} {
  const out: ReturnType<typeof validMessages> = { events: [], jobs: [] };
  for (const msg of batch.messages) {
    const parsed = queueMessageSchema.safeParse(msg.body);
    if (!parsed.success) {
      log("error", "poison message acked", { queue: batch.queue, messageId: msg.id, body: preview(msg.body) });
      msg.ack();
    } else if ("jobId" in parsed.data) {
      out.jobs.push({ msg, job: { id: parsed.data.jobId, ...(parsed.data.kind ? { kind: parsed.data.kind } : {}) } });
    } else {
      out.events.push({ msg, eventId: parsed.data.eventId });
    }
  }
  return out;
}

/** One chunk of a background job (src/jobs/); a failure is retried by the queue, then the DLQ. */
async function runJobMessage(env: Bindings, msg: Message<unknown>, job: { id: string; kind?: JobKind }): Promise<void> {
  try {
    await handleJobMessage(env, job);
    msg.ack();
  } catch (err) {
    log("error", "job chunk failed; it will be retried", { jobId: job.id, err: String(err) });
    msg.retry({ delaySeconds: 10 });
  }
}
