// Vite's `?raw` import suffix: the file's text. Tests read the real configuration this way
// (wrangler.toml in test/unit/webhook-backoff.test.ts) instead of restating its values.
declare module "*?raw" {
  const text: string;
  export default text;
}
