/**
 * Reconciling a resync (SPEC §9): the site may answer a user.synced or group.synced delivery
 * with its own view of the resource after applying it, `{"version": n, "active": bool,
 * "role": "..."}` (all optional). Where that view differs from what the event carried, the
 * resync report lists the resource. Pure: the payload and the answer in, the difference out.
 */

export interface SiteView {
  version?: number;
  active?: boolean;
  role?: string;
}

export interface Disagreement {
  /** The fields that differ, in a fixed order: version, active, role. */
  fields: (keyof SiteView)[];
  site: SiteView;
  directory: SiteView;
  /** Who it is, for the report: the userName or the group's displayName. */
  name: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The site's view from a 2xx body; anything that is not such an object says nothing. */
export function parseSiteView(body: string | null): SiteView | null {
  if (body === null || body.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isRecord(parsed)) return null;
  const view: SiteView = {};
  if (typeof parsed.version === "number" && Number.isFinite(parsed.version)) view.version = parsed.version;
  if (typeof parsed.active === "boolean") view.active = parsed.active;
  if (typeof parsed.role === "string") view.role = parsed.role;
  return Object.keys(view).length > 0 ? view : null;
}

/** What a synced event told the site: its version, and for a user, active and role. */
function directoryView(payload: string): { view: SiteView; name: string | null } | null {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return null;
  }
  const data = isRecord(body) && isRecord(body.data) ? body.data : undefined;
  if (!data || typeof data.version !== "number") return null;
  const view: SiteView = { version: data.version };
  const user = isRecord(data.user) ? data.user : undefined;
  if (user) {
    if (typeof user.active === "boolean") view.active = user.active;
    const role = Array.isArray(user.roles) && isRecord(user.roles[0]) ? user.roles[0].value : undefined;
    if (typeof role === "string") view.role = role;
    return { view, name: typeof user.userName === "string" ? user.userName : null };
  }
  const group = isRecord(data.group) ? data.group : undefined;
  return { view, name: typeof group?.displayName === "string" ? group.displayName : null };
}

/**
 * The fields where the site's answer differs from the event; null when it agrees or said nothing.
 * A site that is ahead (a later change reached it first) does not disagree: its version is newer
 * and the rest of its view is of that newer state. Behind, it disagrees on the version; at the
 * same version, on whatever else differs.
 */
export function disagreement(payload: string, answer: string | null): Disagreement | null {
  const site = parseSiteView(answer);
  const directory = directoryView(payload);
  if (!site || !directory) return null;
  const version = directory.view.version ?? 0;
  if (site.version !== undefined && site.version > version) return null;
  const fields = (["version", "active", "role"] as const).filter(
    (f) => site[f] !== undefined && directory.view[f] !== undefined && site[f] !== directory.view[f],
  );
  return fields.length > 0 ? { fields: [...fields], site, directory: directory.view, name: directory.name } : null;
}
