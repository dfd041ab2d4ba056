/**
 * The admin token, when the admin signs in with one: kept in this browser tab only
 * (sessionStorage, never a cookie or localStorage) and sent only as an Authorization header.
 * Behind Cloudflare Access there is no token at all: Access adds its own header to each request.
 */
const TOKEN_KEY = "scim-admin-token";

export function savedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: nothing was kept
  }
}

export function keepToken(token: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage disabled: the token lives in memory for this page only
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: nothing was kept
  }
}
