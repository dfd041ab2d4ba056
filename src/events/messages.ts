import { z } from "zod";

/**
 * Queue messages are a versioned union; the consumer acks (and logs) anything else. An event
 * message asks for one outbox event to be delivered; a job message asks for the next chunk of a
 * background job (src/jobs/).
 */
const eventMessage = z.object({ v: z.literal(1), eventId: z.string().min(1) });
const jobMessage = z.object({ v: z.literal(1), type: z.literal("job"), jobId: z.string().min(1) });

export const queueMessageSchema = z.union([jobMessage, eventMessage]);
export type EventMessage = z.infer<typeof eventMessage>;

export type QueueMessage = z.infer<typeof queueMessageSchema>;
