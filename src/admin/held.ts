import { Hono } from "hono";
import * as z from "zod/mini";
import { getDb } from "../db/client";
import { heldDetails, heldUsersNow } from "../db/held";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { queryObject, validate } from "../http/validate";
import { recordAction } from "./actions";
import { applyHeld } from "./events";
import { HELD_PEOPLE_LISTED, heldPeople, type PlanSummary, planFor, type Scope } from "./held-people";

const MAX_IDS = 500;

/** A token that names one plan exactly: the ids it would move, and how. */
async function tokenOf(plan: PlanSummary): Promise<string> {
  const text = JSON.stringify([plan.action, plan.plan.send, plan.plan.drop, plan.plan.toWait]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function withToken(plan: PlanSummary) {
  const { plan: ids, ...rest } = plan;
  return { ...rest, events: ids.send.length + ids.drop.length, token: await tokenOf(plan) };
}

/** Everything held now, by person, in one D1 round trip. */
async function readHeld(db: ReturnType<typeof getDb>) {
  const [held, now] = await db.batch([heldDetails(db), heldUsersNow(db)]);
  return { held, people: heldPeople(held, now) };
}

const ids = z.array(z.string().check(z.minLength(1), z.maxLength(200))).check(z.minLength(1), z.maxLength(MAX_IDS));
const scopeBody = {
  action: z.enum(["release", "discard"]),
  /**
   * Whose held changes: the people the IdP has reactivated (nothing but their status held), the
   * rest, everyone, some users (by id), or some events (an event stands for its user's whole hold).
   */
  scope: z.enum(["reactivated", "rest", "all", "users", "ids"]),
  ids: z.optional(ids),
};
const planBody = z
  .strictObject(scopeBody)
  .check(
    z.refine(
      (b) => (b.scope === "users" || b.scope === "ids") === (b.ids !== undefined),
      "give ids with the scope users or ids, and only then",
    ),
  );
const applyBody = z
  .strictObject({ ...scopeBody, token: z.string().check(z.minLength(1), z.maxLength(64)) })
  .check(
    z.refine(
      (b) => (b.scope === "users" || b.scope === "ids") === (b.ids !== undefined),
      "give ids with the scope users or ids, and only then",
    ),
  );

function scopeOf(b: { scope: "reactivated" | "rest" | "all" | "users" | "ids"; ids?: string[] | undefined }): Scope {
  if (b.scope === "users" || b.scope === "ids") return { kind: b.scope, ids: b.ids ?? [] };
  return { kind: b.scope };
}

const scopeWords: Record<Scope["kind"], string> = {
  reactivated: "the people the IdP has reactivated",
  rest: "everyone held except the people the IdP has reactivated",
  all: "everyone held",
  users: "chosen people",
  ids: "chosen events",
};

/**
 * /admin/api/events/held (SPEC §9, §10): the deprovisioning guard by person. GET lists who is
 * held and why, with what the directory says now and what each bulk action would do; `plan`
 * answers what an action would do, in numbers and in words, with a token; `apply` does exactly
 * that plan, or answers 409 with the new plan when the held changes moved in between (a dialog
 * never does more, or other, than it said).
 */
export const heldAdminRoutes = new Hono<AppEnv>()
  .get("/held", validate("query", queryObject({})), async (c) => {
    const db = getDb(c.env.DB);
    const { held, people } = await readHeld(db);
    const count = (f: (p: (typeof people)[number]) => boolean) => people.filter(f).length;
    const [discardReactivated, releaseRest] = await Promise.all([
      withToken(planFor("discard", { kind: "reactivated" }, held, people)),
      withToken(planFor("release", { kind: "rest" }, held, people)),
    ]);
    return c.json({
      generatedAt: new Date().toISOString(),
      totals: {
        people: people.length,
        events: held.length,
        /** Group changes held: those a held deletion caused, and those that wait behind them. */
        groupEvents: held.filter((e) => e.resourceType !== "User").length,
        reactivated: count((p) => p.reactivated),
        active: count((p) => p.directory === "active"),
        inactive: count((p) => p.directory === "inactive"),
        deleted: count((p) => p.directory === "deleted"),
        changedSince: count((p) => p.changedSince),
      },
      people: people.slice(0, HELD_PEOPLE_LISTED),
      actions: { discardReactivated, releaseRest },
    });
  })
  .post("/held/plan", validate("json", planBody), async (c) => {
    const body = c.req.valid("json");
    const { held, people } = await readHeld(getDb(c.env.DB));
    return c.json(await withToken(planFor(body.action, scopeOf(body), held, people)));
  })
  .post("/held/apply", validate("json", applyBody), async (c) => {
    const body = c.req.valid("json");
    const { held, people } = await readHeld(getDb(c.env.DB));
    const plan = planFor(body.action, scopeOf(body), held, people);
    const shown = await withToken(plan);
    if (shown.token !== body.token) {
      return c.json(
        {
          error: "plan_changed",
          detail: `The held changes moved since this was shown; nothing was done. Now: ${plan.summary}`,
          plan: shown,
        },
        409,
      );
    }
    if (plan.people === 0) throw new AdminError(409, "nothing_held", "No held change matches any more; nothing was done.");
    const sentNow = await applyHeld(c, plan.plan);
    const verb = body.action === "release" ? "released" : "discarded (never delivered)";
    await recordAction(c, `held changes ${verb} for ${scopeWords[body.scope]}: ${plan.summary}`);
    return c.json({ done: true as const, ...shown, sentNow });
  });
