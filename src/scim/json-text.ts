/**
 * A resource already written as JSON text. A group's members are built as their JSON array by
 * SQLite (src/db/groups.ts) and spliced into the group's text, so 10,000 members travel as one
 * string instead of 10,000 row objects, 10,000 rendered objects and their serialisation: what a
 * Worker with 128 MB can afford for the largest answers (bench/README.md, "Memory").
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** A resource of an answer: an object, or already its JSON text. */
export type ScimResource = Record<string, unknown> | JsonText;

/** A resource as answer text. */
export const jsonTextOf = (value: unknown): string => (value instanceof JsonText ? value.text : JSON.stringify(value));

/**
 * `resource` (without members) with `"members": <membersJson>` added before its `meta`, as text.
 * Members that are none stay absent (RFC 7643 §2.5: unassigned attributes are omitted).
 */
export function withMembersText(resource: Record<string, unknown>, membersJson: string): Record<string, unknown> | JsonText {
  if (membersJson === "[]" || membersJson === "") return resource;
  const { meta, ...rest } = resource;
  const head = JSON.stringify(rest).slice(0, -1);
  return new JsonText(`${head},"members":${membersJson}${meta === undefined ? "" : `,"meta":${JSON.stringify(meta)}`}}`);
}
