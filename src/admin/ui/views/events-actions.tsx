import { REDELIVERABLE } from "../../../lifecycle/events";
import { ApiError, api, type EventItem, read } from "../api";
import type { Msg } from "../components";

/** The states the API resends one by one (the API's list itself; the page's events carry state as text). */
const redeliverable: readonly string[] = REDELIVERABLE;

/** Runs one event action, then reports it and reloads whatever shows the events. */
export async function eventAction(button: EventTarget | null, call: () => Promise<string>, say: (msg: Msg) => void, done: () => void) {
  const b = button instanceof HTMLButtonElement ? button : null;
  if (b) b.disabled = true;
  try {
    say({ text: await call(), kind: "ok" });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401))
      say({ text: `Not done: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
  } finally {
    if (b) b.disabled = false;
  }
  done();
}

/** Buttons for one event: redeliver a failed or delivered one, release or discard a held one. */
export function EventActions({
  ev,
  say,
  done,
}: {
  ev: Pick<EventItem, "id" | "type" | "state">;
  say: (msg: Msg) => void;
  done: () => void;
}) {
  const name = `${ev.type} ${ev.id}`;
  return (
    <div class="cell-actions">
      {redeliverable.includes(ev.state) ? (
        <button
          type="button"
          class="secondary"
          aria-label={`Redeliver event ${name}`}
          onClick={(e: Event) =>
            void eventAction(
              e.currentTarget,
              async () => {
                const r = await read(api.events[":id"].redeliver.$post({ param: { id: ev.id } }));
                return `Event ${ev.id} sent${ev.state === "dry_run" ? "" : " again"} (now ${r.state}).`;
              },
              say,
              done,
            )
          }
        >
          Redeliver
        </button>
      ) : null}
      {ev.state === "held" ? (
        <>
          <button
            type="button"
            class="secondary"
            aria-label={`Release held event ${name}`}
            onClick={(e: Event) =>
              void eventAction(
                e.currentTarget,
                async () => {
                  await read(api.events["release-held"].$post({ json: { ids: [ev.id] } }));
                  return `Event ${ev.id} released for delivery.`;
                },
                say,
                done,
              )
            }
          >
            Release
          </button>
          <button
            type="button"
            class="danger"
            aria-label={`Discard held event ${name}`}
            onClick={(e: Event) => {
              if (!window.confirm(`Discard event ${name}? The main site will never receive it.`)) return;
              void eventAction(
                e.currentTarget,
                async () => {
                  await read(api.events["discard-held"].$post({ json: { ids: [ev.id] } }));
                  return `Event ${ev.id} discarded.`;
                },
                say,
                done,
              );
            }}
          >
            Discard
          </button>
        </>
      ) : null}
    </div>
  );
}

/** What a redelivery of recorded events held instead of sending (deactivations, deletions, what follows them). */
export const heldNote = (held: number) =>
  held > 0 ? ` ${held} held instead (deactivations, deletions and what follows them): release them under Held.` : "";
