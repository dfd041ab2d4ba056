import { Hono } from "hono";
import type { AppEnv } from "../env";

/** The admin page (/admin). */
export const adminPage = new Hono<AppEnv>();

adminPage.get("/", (c) => c.html("<!doctype html><title>SCIM admin</title><p>SCIM admin</p>"));
