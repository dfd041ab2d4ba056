import { z } from "zod";

/** Queue messages are a versioned union; the consumer ignores (and records) anything else. */
export const eventMessageSchema = z.object({ v: z.literal(1), eventId: z.string().min(1) });
export type EventMessage = z.infer<typeof eventMessageSchema>;
