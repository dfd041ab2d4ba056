import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, type HeldPerson, type HeldView, read } from "../api";
import { AsOf, Cell, type Msg, Subject, Time, useLive } from "../components";
import { plural } from "../format";
import { useHeldAction } from "./held-plan";

const DIRECTORY: Record<HeldPerson["directory"], string> = {
  active: "active again",
  inactive: "still deactivated",
  deleted: "deleted",
};

/** Why this person's changes are held, in numbers where the guard recorded them. */
function whyText(p: HeldPerson): string {
  const w = p.why;
  if (w.kind === "name") {
    return `re-created with the userName of ${w.waitsFor?.userName ?? "a user"} whose deletion is held: waits for it`;
  }
  if (w.kind === "behind") return "waits behind an earlier held change";
  const saw = w.saw;
  if (!saw) return "held by the guard (a deactivation or deletion sent from a dry run's record)";
  const tenth = Math.floor(saw.activeAtHourStart / 10);
  return `deactivation or deletion number ${saw.countBefore + 1} within the hour; the guard lets ${saw.threshold} through (maxPerHour ${saw.maxPerHour}; 10% of the ${saw.activeAtHourStart} users active when the hour began is ${tenth})`;
}

/** Its held changes in words: "user.deactivated, then user.reactivated". */
const changesText = (p: HeldPerson) =>
  `${p.events.map((e) => e.type.replace(/^user\./, "")).join(", then ")}${p.groupEvents ? ` (and ${plural(p.groupEvents, "group change", "group changes")} its deletion caused)` : ""}`;

function PersonRow({ p, ask }: { p: HeldPerson; ask: ReturnType<typeof useHeldAction>["ask"] }) {
  const label = p.userName ?? p.userId;
  return (
    <tr data-user-id={p.userId} data-directory={p.directory} data-reactivated={p.reactivated ? "yes" : "no"}>
      <Cell label="Person">
        <Subject type="User" id={p.userId} name={p.userName} displayName={p.displayName} email={p.email} />
      </Cell>
      <Cell label="Held since">
        <Time iso={p.since} />
      </Cell>
      <Cell label="Why">{whyText(p)}</Cell>
      <Cell label="Held changes">{changesText(p)}</Cell>
      <Cell label="In the directory now">
        <span class={`now now-${p.directory}`}>{DIRECTORY[p.directory]}</span>
        {p.changedSince ? <div class="hint">changed while held (a discard would drop those changes)</div> : null}
      </Cell>
      <Cell label="Actions">
        {p.rootId ? (
          <div class="cell-actions">
            <button
              type="button"
              class="secondary"
              aria-label={`Release the held changes of ${label}`}
              onClick={() => void ask({ action: "release", scope: "users", ids: [p.userId] })}
            >
              Release
            </button>
            <button
              type="button"
              class="danger"
              aria-label={`Discard the held changes of ${label}`}
              onClick={() => void ask({ action: "discard", scope: "users", ids: [p.userId] })}
            >
              Discard
            </button>
          </div>
        ) : (
          <span class="hint">goes out with the change it waits for</span>
        )}
      </Cell>
    </tr>
  );
}

/**
 * The deprovisioning guard, by person (GET /admin/api/events/held): who is held, why (the hour's
 * count against the threshold), what the directory says about them now, and the safe bulk actions,
 * each asked first with exactly what it will do.
 */
export function HeldPeople({
  active,
  heldEvents,
  say,
  onChanged,
}: {
  active: boolean;
  heldEvents: number;
  say: (msg: Msg) => void;
  onChanged: () => void;
}) {
  const [view, setView] = useState<HeldView | null>(null);
  const load = async () => {
    try {
      setView(await read(api.events.held.$get({ query: {} })));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        say({ text: `Could not load the held changes: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    }
  };
  const held = useHeldAction(say, () => {
    void load();
    onChanged();
  });
  // Read again whenever the count the banner shows moves, and while shown.
  useLive(active, load);
  useEffect(() => {
    if (active) void load();
  }, [heldEvents]);
  if (!view || view.totals.people === 0) return null;
  const { totals, actions } = view;
  const rest = actions.releaseRest;
  const reactivated = actions.discardReactivated;
  return (
    <section id="held-people" aria-labelledby="held-people-h">
      <h3 id="held-people-h">{`Held by the deprovisioning guard: ${plural(totals.people, "person", "people")} (${plural(totals.events, "change", "changes")})`}</h3>
      <AsOf id="held-asof" at={view.generatedAt} />
      <p id="held-summary">
        {`In the directory now: ${totals.active} active again (${totals.reactivated} with nothing but their status held), ${totals.inactive} still deactivated, ${totals.deleted} deleted. `}
        {"Until an admin decides, the site is not told they were deactivated or deleted."}
      </p>
      <div class="row actions">
        <button
          type="button"
          id="held-discard-reactivated"
          class="danger"
          disabled={reactivated.people === 0}
          onClick={() => void held.ask({ action: "discard", scope: "reactivated" })}
        >
          {`Discard for the ${plural(reactivated.people, "person", "people")} the IdP has reactivated`}
        </button>
        <button
          type="button"
          id="held-release-rest"
          disabled={rest.people === 0}
          onClick={() => void held.ask({ action: "release", scope: "rest" })}
        >
          {reactivated.people
            ? `Release the rest (${plural(rest.people, "person", "people")})`
            : `Release all (${plural(rest.people, "person", "people")})`}
        </button>
      </div>
      <div class="table-wrap">
        <table id="held-table">
          <caption class="sr-only">People whose changes the deprovisioning guard holds, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Held since</th>
              <th scope="col">Why</th>
              <th scope="col">Held changes</th>
              <th scope="col">In the directory now</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody id="held-body">
            {view.people.map((p) => (
              <PersonRow p={p} ask={held.ask} />
            ))}
          </tbody>
        </table>
      </div>
      {view.people.length < totals.people ? (
        <p class="hint">{`The first ${view.people.length} are listed; the bulk actions count everyone.`}</p>
      ) : null}
      {held.dialog}
    </section>
  );
}
