/** Display helpers: everything the page shows is text; nothing here builds markup. */

/** "2026-04-01T12:34:56.789Z" → "2026-04-01 12:34:56 UTC". */
export function timeText(iso: string): string {
  return `${iso
    .replace("T", " ")
    .replace(/\.\d+Z$/, "")
    .replace(/Z$/, "")} UTC`;
}

export const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** 45 → "45 s", 4000 → "1 h 6 min", 200000 → "2 d 7 h". */
export function ageText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A strong SCIM token, made in this browser (never sent anywhere): 32 random bytes, base64url. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A datetime-local input's value ("2026-04-01T12:34", local time) for a Date. */
export function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Days from now until `iso`, rounded (negative once past): a secret made now for a year is "in 365 days". */
export function daysUntil(iso: string, now = Date.now()): number {
  return Math.round((Date.parse(iso) - now) / 86_400_000);
}
