import * as z from "zod/mini";
import type { QueueMessage } from "../env";
import { JOB_KINDS } from "../lifecycle/jobs";

/**
 * Queue messages are a versioned union (src/env.ts QueueMessage); the consumer acks (and logs)
 * anything else, so a poison message is never retried forever.
 */
const id = z.string().check(z.minLength(1));
const eventMessage = z.object({ v: z.literal(1), eventId: id });
const jobMessage = z.object({ v: z.literal(1), type: z.literal("job"), jobId: id, kind: z.optional(z.enum(JOB_KINDS)) });

export const queueMessageSchema: z.ZodMiniType<QueueMessage> = z.union([jobMessage, eventMessage]);
