import * as z from "zod/mini";

/** How events reach the site (SPEC §9). */
const SITE_DELIVERY_MODES = ["push", "pull"] as const;

const groupId = z.nullable(z.string().check(z.minLength(1), z.maxLength(200)));
const whole = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));

/** The settings document (SPEC §10). Defaults are the safe ones: SCIM off, no promotion. */
const settingsSchema = z.strictObject({
  scimEnabled: z.boolean(),
  allowModeratorPromotion: z.boolean(),
  allowAdminPromotion: z.boolean(),
  moderatorGroup: groupId,
  adminGroup: groupId,
  dryRun: z.boolean(),
  deprovisionGuard: z.strictObject({ maxPerHour: whole(1, 1_000_000) }),
  logRetentionDays: whole(1, 3650),
  /** Delivered and discarded events older than this are pruned; undelivered ones never are. */
  eventRetentionDays: whole(1, 3650),
  /** false: SCIM_BEARER_TOKEN and _NEXT are refused, only OAuth access tokens work (require OAuth). */
  staticTokenEnabled: z.boolean(),
  /** Lifetime of an OAuth access token (src/oauth/): Entra accepts 60 minutes to 6 hours. */
  oauthAccessTokenMinutes: whole(60, 360),
  /**
   * How events reach the site (SPEC §9): push, a signed POST to MAIN_SITE_URL; or pull, the site
   * reads GET /api/site/v1/events with SITE_API_TOKEN and nothing is POSTed.
   */
  siteDelivery: z.enum(SITE_DELIVERY_MODES),
});

export type Settings = z.infer<typeof settingsSchema>;

/** PUT accepts the same shape; keys left out keep their current value. */
export const settingsPatchSchema = z.partial(settingsSchema);

export const DEFAULT_SETTINGS: Settings = {
  scimEnabled: false,
  allowModeratorPromotion: false,
  allowAdminPromotion: false,
  moderatorGroup: null,
  adminGroup: null,
  dryRun: false,
  deprovisionGuard: { maxPerHour: 25 },
  logRetentionDays: 30,
  eventRetentionDays: 30,
  staticTokenEnabled: true,
  oauthAccessTokenMinutes: 60,
  siteDelivery: "push",
};

/** Stored JSON → Settings; anything unreadable falls back to defaults key by key. */
export function parseStoredSettings(json: string | null | undefined): Settings {
  if (!json) return { ...DEFAULT_SETTINGS };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  const merged = { ...DEFAULT_SETTINGS, ...(typeof raw === "object" && raw !== null ? raw : {}) };
  const parsed = settingsSchema.safeParse(merged);
  return parsed.success ? parsed.data : { ...DEFAULT_SETTINGS };
}

/** One changed setting, typed by its key: `{ key: "allowAdminPromotion", from: false, to: true }`. */
export type SettingChange = { [K in keyof Settings]: { key: K; from: Settings[K]; to: Settings[K] } }[keyof Settings];

/** What a save changes, setting by setting (in the document's key order). */
export function diffSettings(before: Settings, after: Settings): SettingChange[] {
  const changes: SettingChange[] = [];
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes.push({ key, from: before[key], to: after[key] } as SettingChange);
    }
  }
  return changes;
}

/** A change in words, for the provisioning log: "allowAdminPromotion: false → true". */
export const describeChange = (c: SettingChange): string => `${c.key}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`;

/**
 * Whether a change feeds the role decisions (SPEC §5): mapping or unmapping a group, or turning a
 * promotion on, re-evaluates every user; turning a promotion off keeps existing roles.
 */
export function changesRoles(c: SettingChange): boolean {
  switch (c.key) {
    case "moderatorGroup":
    case "adminGroup":
      return true;
    case "allowModeratorPromotion":
    case "allowAdminPromotion":
      return c.to;
    default:
      return false;
  }
}
