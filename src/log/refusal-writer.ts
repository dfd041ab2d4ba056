import type { Db } from "../db/client";
import { refusalStatement } from "./entry";
import { describeRefusals, type RefusalCounter, type RefusalReason, type RefusalRow, TRAILING_WRITE_MS } from "./refused";

const failed = (err: unknown) =>
  console.error(JSON.stringify({ level: "error", message: "provisioning log write failed", err: String(err) }));

/**
 * Counts one refused request in `counter` and writes its client's counted row when the counter says
 * so: at once (a new row, or the count doubled) and once more a second after the latest refusal.
 * `defer` keeps the writes going after the response (waitUntil); nothing here delays the answer.
 */
export function countRefusal(
  counter: RefusalCounter,
  db: Db,
  refusal: { client: string; reason: RefusalReason; note?: string },
  status: number,
  defer: (work: Promise<unknown>) => void,
): void {
  const write = (row: RefusalRow) => {
    console.warn(JSON.stringify({ level: "warn", message: "refused requests", detail: describeRefusals(row) }));
    return refusalStatement(db, row, status)
      .run()
      .then(() => undefined, failed);
  };
  const recorded = counter.record(refusal.client, refusal.reason, Date.now(), refusal.note);
  if (recorded.now) defer(write(recorded.now));
  const trailing = recorded.trailing;
  if (trailing) {
    defer(
      new Promise((resolve) => setTimeout(resolve, TRAILING_WRITE_MS)).then(() => {
        const row = trailing();
        return row ? write(row) : undefined;
      }),
    );
  }
}
