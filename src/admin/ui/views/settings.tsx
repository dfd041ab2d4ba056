import { useEffect, useRef, useState } from "hono/jsx/dom";
import { ApiError, api, type GroupItem, type Job, read, type Settings, type SettingsPatch } from "../api";
import { type Msg, Status, useStatus } from "../components";
import { plural } from "../format";

/** A number field that is not a whole number in range: the message names the field. */
class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function readInt(form: HTMLFormElement, field: string, label: string, min: number, max: number): number {
  const input = form.elements.namedItem(field);
  const raw = input instanceof HTMLInputElement ? input.value.trim() : "";
  if (!/^\d+$/.test(raw)) throw new FieldError(field, `${label} must be a whole number.`);
  const n = Number(raw);
  if (n < min || n > max) throw new FieldError(field, `${label} must be between ${min} and ${max}.`);
  return n;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** "None", every pushed group, and the selected id even if it is not (or no longer) listed. */
function GroupSelect({ id, label, groups, selected }: { id: string; label: string; groups: GroupItem[] | null; selected: string | null }) {
  const listed = groups ?? [];
  const missing = selected && !listed.some((g) => g.id === selected);
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} name={id}>
        <option value="" selected={!selected}>
          None
        </option>
        {listed.map((g) => (
          <option value={g.id} selected={g.id === selected}>
            {`${g.displayName} (${plural(g.members, "member", "members")})`}
          </option>
        ))}
        {missing ? (
          <option value={selected} selected>
            {groups ? `Group ${selected} (not found)` : `Group ${selected}`}
          </option>
        ) : null}
      </select>
    </>
  );
}

/** The newest role re-evaluation: a progress bar while it runs, its result when it is done. */
function RoleJob({ job }: { job: Job | undefined }) {
  if (!job) return null;
  const counts = `${job.processed} of ${job.total} users, ${job.changed} changed, ${job.kept} kept by a setting`;
  const running = job.state === "running";
  return (
    <div id="roles-job">
      <label for="roles-job-progress">{running ? "Re-evaluating every user's role" : "Last role re-evaluation"}</label>
      <progress id="roles-job-progress" max={Math.max(1, job.total)} value={Math.min(job.processed, Math.max(1, job.total))} />
      <p id="roles-job-msg" class="hint" role="status">
        {running ? `Running (${job.reason}): ${counts}.` : `${job.state} (${job.reason}): ${counts}${job.error ? `. ${job.error}` : "."}`}
      </p>
    </div>
  );
}

/** The seed's SCIM settings screen: On/Off, the two "Allow ... Promotion" checkboxes, Save settings. */
export function SettingsView({ onSaved }: { onSaved: () => void }) {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [groups, setGroups] = useState<GroupItem[] | null>(null);
  const [groupsMsg, setGroupsMsg] = useState<Msg>(null);
  const [job, setJob] = useState<Job | undefined>(undefined);
  const [msg, setMsg] = useStatus();
  const [saving, setSaving] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const jobTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const loadJob = async () => {
    if (jobTimer.current) clearTimeout(jobTimer.current);
    try {
      const latest = (await read(api.jobs.$get())).jobs[0];
      setJob(latest);
      if (latest?.state === "running") jobTimer.current = setTimeout(loadJob, 1500);
    } catch {
      // Progress is a nicety: the settings themselves were saved.
    }
  };
  const loadGroups = async () => {
    try {
      const list = (await read(api.groups.$get())).groups;
      setGroups(list);
      setGroupsMsg(list.length ? null : { text: "No groups yet: push groups from your IdP (Okta: Push Groups), then reload." });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setGroupsMsg({ text: `Could not load the groups: ${errorText(err)}`, kind: "error" });
    }
  };
  useEffect(() => {
    read(api.settings.$get())
      .then(setSettings)
      .catch((err: unknown) => setMsg({ text: `Could not load the settings: ${errorText(err)}`, kind: "error" }));
    void loadGroups();
    void loadJob();
    return () => {
      if (jobTimer.current) clearTimeout(jobTimer.current);
    };
  }, []);

  const save = async (ev: Event) => {
    ev.preventDefault();
    const f = form.current;
    if (!f) return;
    const checked = (name: string) => {
      const el = f.elements.namedItem(name);
      return el instanceof HTMLInputElement && el.checked;
    };
    const selected = (name: string) => {
      const el = f.elements.namedItem(name);
      return el instanceof HTMLSelectElement && el.value ? el.value : null;
    };
    // What this form shows; the authentication settings are saved from the Connect view.
    let body: SettingsPatch;
    try {
      body = {
        scimEnabled: checked("scim-on"),
        allowModeratorPromotion: checked("allowModeratorPromotion"),
        allowAdminPromotion: checked("allowAdminPromotion"),
        moderatorGroup: selected("moderatorGroup"),
        adminGroup: selected("adminGroup"),
        dryRun: checked("dryRun"),
        siteDelivery: checked("delivery-pull") ? "pull" : "push",
        deprovisionGuard: { maxPerHour: readInt(f, "maxPerHour", "The deprovisioning guard", 1, 1_000_000) },
        logRetentionDays: readInt(f, "logRetentionDays", "Log retention", 1, 3650),
        eventRetentionDays: readInt(f, "eventRetentionDays", "Event retention", 1, 3650),
      };
    } catch (err) {
      setMsg({ text: `Not saved: ${errorText(err)}`, kind: "error" });
      if (err instanceof FieldError) f.querySelector<HTMLInputElement>(`#${err.field}`)?.focus();
      return;
    }
    setSaving(true);
    setMsg({ text: "Saving…" });
    try {
      setSettings(await read(api.settings.$put({ json: body })));
      setMsg({ text: "Settings saved.", kind: "ok" });
      onSaved();
      void loadJob();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setMsg({ text: `Not saved: ${errorText(err)}`, kind: "error" });
    } finally {
      setSaving(false);
    }
  };

  const s = settings;
  return (
    <form id="settings-form" ref={form} onSubmit={save} onInput={() => msg?.kind === "ok" && setMsg(null)} noValidate>
      <fieldset>
        <legend>SCIM</legend>
        <div class="radios">
          <label>
            <input type="radio" name="scimEnabled" id="scim-on" value="on" checked={s?.scimEnabled === true} /> On
          </label>
          <label>
            <input type="radio" name="scimEnabled" id="scim-off" value="off" checked={s?.scimEnabled !== true} /> Off
          </label>
        </div>
        <p class="hint">
          Off: every SCIM request answers 403 "provisioning is disabled", so Okta's "Test API Credentials" fails with that reason.
        </p>
      </fieldset>
      <fieldset>
        <legend>Role promotion</legend>
        <div class="check">
          <input
            type="checkbox"
            id="allowModeratorPromotion"
            name="allowModeratorPromotion"
            checked={s?.allowModeratorPromotion === true}
          />
          <label for="allowModeratorPromotion">Allow Moderator Promotion via a userType property</label>
        </div>
        <p class="hint">
          Promote and demote between regular user and moderator when <code>userType</code> is Registered or Moderator.
        </p>
        <div class="check">
          <input type="checkbox" id="allowAdminPromotion" name="allowAdminPromotion" checked={s?.allowAdminPromotion === true} />
          <label for="allowAdminPromotion">Allow Admin Promotion via a userType property</label>
        </div>
        <p class="hint">
          Promote and demote to and from admin when <code>userType</code> is Admin (admins have moderator privileges).
        </p>
      </fieldset>
      <fieldset>
        <legend>Group to role mapping</legend>
        <GroupSelect id="moderatorGroup" label="Moderator group" groups={groups} selected={s?.moderatorGroup ?? null} />
        <GroupSelect id="adminGroup" label="Admin group" groups={groups} selected={s?.adminGroup ?? null} />
        <p class="hint">
          Members of these groups (pushed with Okta's Push Groups or Entra's group provisioning) get the role at once, under the two
          settings above: no Force Sync needed. Only groups your IdP has pushed are listed.
        </p>
        <button type="button" class="secondary" onClick={() => void loadGroups()}>
          Reload groups
        </button>
        <Status id="groups-msg" msg={groupsMsg} />
      </fieldset>
      <fieldset>
        <legend>Delivery to the main site</legend>
        <div class="radios" role="radiogroup" aria-label="How events reach the site">
          <label>
            <input type="radio" name="siteDelivery" id="delivery-push" value="push" checked={s?.siteDelivery !== "pull"} /> Push: a signed
            POST to <code>MAIN_SITE_URL</code>
          </label>
          <label>
            <input type="radio" name="siteDelivery" id="delivery-pull" value="pull" checked={s?.siteDelivery === "pull"} /> Pull: the site
            reads <code>GET /api/site/v1/events</code> with <code>SITE_API_TOKEN</code>
          </label>
        </div>
        <p class="hint">
          Pull is for a site that cannot receive requests from the internet: nothing is POSTed, and an event is delivered once the site has
          read past it. Health shows how far it has read.
        </p>
        <div class="check">
          <input type="checkbox" id="dryRun" name="dryRun" checked={s?.dryRun === true} />
          <label for="dryRun">Dry run: record events, do not deliver them</label>
        </div>
        <label for="maxPerHour">Deprovisioning guard: deactivations and deletions delivered per hour</label>
        <input
          id="maxPerHour"
          name="maxPerHour"
          type="number"
          min="1"
          max="1000000"
          step="1"
          inputMode="numeric"
          value={s ? String(s.deprovisionGuard.maxPerHour) : ""}
        />
        <p class="hint">
          Or 10% of active users, if larger. Beyond it, <code>user.deactivated</code> and <code>user.deleted</code> events are held until
          you release or discard them under Events.
        </p>
        <label for="logRetentionDays">Keep the provisioning log for (days)</label>
        <input
          id="logRetentionDays"
          name="logRetentionDays"
          type="number"
          min="1"
          max="3650"
          step="1"
          inputMode="numeric"
          value={s ? String(s.logRetentionDays) : ""}
        />
        <label for="eventRetentionDays">Keep delivered and discarded events for (days)</label>
        <input
          id="eventRetentionDays"
          name="eventRetentionDays"
          type="number"
          min="1"
          max="3650"
          step="1"
          inputMode="numeric"
          value={s ? String(s.eventRetentionDays) : ""}
        />
        <p class="hint">Undelivered events are never pruned.</p>
      </fieldset>
      <button type="submit" id="save-settings" disabled={saving || !s}>
        Save settings
      </button>
      <Status id="settings-msg" msg={msg} />
      <RoleJob job={job} />
    </form>
  );
}
