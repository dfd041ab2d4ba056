import { useEffect, useRef, useState } from "hono/jsx/dom";
import { fieldValue, type Msg, Status } from "../components";

/** The token form, shown when neither a saved token nor Cloudflare Access signs the admin in. */
export function SignIn({ msg, checking, onToken }: { msg: Msg; checking: boolean; onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [local, setLocal] = useState<Msg>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setToken("");
    setLocal(null);
    if (!checking) input.current?.focus();
  }, [msg, checking]);
  const submit = (ev: Event) => {
    ev.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setLocal({ text: "Enter the admin token.", kind: "error" });
      input.current?.focus();
      return;
    }
    setLocal({ text: "Checking the token…" });
    onToken(candidate);
  };
  return (
    <section id="login" aria-labelledby="login-h">
      <h2 id="login-h">Sign in</h2>
      <p>
        Behind Cloudflare Access this page signs you in by itself, as the person Access knows. Otherwise enter the admin token (the Worker
        secret <code>ADMIN_TOKEN</code>): it stays in this browser tab only and is sent as an <code>Authorization: Bearer</code> header; no
        cookies are used.
      </p>
      <form id="login-form" onSubmit={submit} noValidate>
        <label for="admin-token">Admin token</label>
        <div class="row">
          <input
            id="admin-token"
            ref={input}
            name="admin-token"
            type="password"
            autoComplete="current-password"
            spellcheck={false}
            value={token}
            onInput={(ev: Event) => setToken(fieldValue(ev))}
          />
          <button type="submit" disabled={checking}>
            Sign in
          </button>
        </div>
      </form>
      <Status id="login-msg" msg={checking ? { text: "Checking…" } : (local ?? msg)} />
    </section>
  );
}
