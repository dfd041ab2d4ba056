import { useState } from "hono/jsx/dom";
import { ApiError, api, type HeldPlan, type HeldScope, read } from "../api";
import { ConfirmDialog, type Msg } from "../components";
import { plural } from "../format";

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The people a plan names, as a line: "Names: a@x, b@x and 3 more." */
function namesLine(plan: HeldPlan): string {
  if (plan.names.length === 0) return "";
  const shown = plan.names.slice(0, 10);
  const more = plan.people - shown.length;
  return `${plan.people === 1 ? "Person" : "People"}: ${shown.join(", ")}${more > 0 ? ` and ${more} more` : ""}.`;
}

/**
 * A release or discard of held changes, asked first: the server plans it (src/admin/held.ts) and
 * the dialog shows exactly that plan, in numbers; Confirm applies that plan and nothing else (the
 * server refuses with 409 when the held changes moved in between, and the dialog then shows the new
 * plan). Returns the button handler and the dialog to render.
 */
export function useHeldAction(say: (msg: Msg) => void, done: () => void) {
  const [asking, setAsking] = useState<{ plan: HeldPlan; scope: HeldScope; note?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const ask = async (scope: HeldScope, note?: string) => {
    try {
      const plan = await read(api.events.held.plan.$post({ json: scope }));
      if (plan.people === 0) {
        say({
          text: `Nothing done: ${plan.summary}${plan.skipped.length ? " That change waits for another person's held change: act on that one." : ""}`,
          kind: "error",
        });
        return;
      }
      setAsking({ plan, scope, ...(note ? { note } : {}) });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) say({ text: `Not done: ${errorText(err)}`, kind: "error" });
    }
  };
  const confirm = async () => {
    if (!asking) return;
    setBusy(true);
    try {
      const r = await read(api.events.held.apply.$post({ json: { ...asking.scope, token: asking.plan.token } }));
      setAsking(null);
      say({
        text: `Done: ${r.action === "release" ? "released" : "discarded"} ${plural(r.events, "held change", "held changes")} of ${plural(r.people, "person", "people")}.`,
        kind: "ok",
      });
      done();
    } catch (err) {
      // The held changes moved since the plan was shown: show the new plan instead of acting.
      if (err instanceof ApiError && err.code === "plan_changed") {
        say({ text: err.message, kind: "error" });
        setAsking(null);
        void ask(asking.scope, "The held changes moved since the last question; this is what it would do now.");
      } else {
        setAsking(null);
        if (!(err instanceof ApiError && err.status === 401)) say({ text: `Not done: ${errorText(err)}`, kind: "error" });
      }
      done();
    } finally {
      setBusy(false);
    }
  };
  const dialog = asking ? (
    <ConfirmDialog
      id="held-dialog"
      title={asking.plan.action === "release" ? "Release held changes?" : "Discard held changes?"}
      lines={[...(asking.note ? [asking.note] : []), asking.plan.summary, namesLine(asking.plan)].filter(Boolean)}
      confirm={`${asking.plan.action === "release" ? "Release" : "Discard"} ${plural(asking.plan.events, "change", "changes")} of ${plural(asking.plan.people, "person", "people")}`}
      danger={asking.plan.action === "discard"}
      busy={busy}
      onConfirm={() => void confirm()}
      onCancel={() => setAsking(null)}
    />
  ) : null;
  return { ask, dialog };
}
