/**
 * The single-query ceiling (bench/README.md): one D1 round trip, one SELECT by id on the users
 * table, nothing else. The bench passes a random seeded id as ?id=, as it does to GET /Users/{id}.
 */
interface CeilingEnv {
  DB: D1Database;
}

export default {
  async fetch(request, env) {
    const id = new URL(request.url).searchParams.get("id") ?? "";
    const row = await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(id).first();
    return row === null ? new Response("not found", { status: 404 }) : Response.json(row);
  },
} satisfies ExportedHandler<CeilingEnv>;
