/**
 * What the provisioning log records about one request, collected while it runs:
 * the resource it touched, the IdP quirks tolerated and the decisions taken.
 */
export class Audit {
  readonly quirks: string[] = [];
  readonly decisions: string[] = [];
  resourceType: "User" | "Group" | "Settings" | undefined;
  resourceId: string | undefined;
  /** Set when the log row was written in the same D1 batch as the change. */
  written = false;
  /** Set when the request must leave no log row (the tail of a throttled flood). */
  unlogged = false;

  quirk(text: string): void {
    if (!this.quirks.includes(text)) this.quirks.push(text);
  }

  decide(text: string): void {
    this.decisions.push(text);
  }

  touch(resourceType: "User" | "Group" | "Settings", resourceId: string): void {
    this.resourceType = resourceType;
    this.resourceId = resourceId;
  }
}
