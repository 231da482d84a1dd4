/**
 * The identity secret that gives this engine its permanent virtual IP (PROTOCOL.md §7). The
 * server allows one live connection per identity, so every browser tab needs its own: the secret
 * is kept in sessionStorage, which survives reloads of a tab but is not shared with other tabs.
 * Elsewhere (Node bots) a fresh secret is made per engine unless one is given.
 */
const SECRET_BYTES = 24;

export function randomSecret(): string {
  const bytes = new Uint8Array(SECRET_BYTES);
  globalThis.crypto.getRandomValues(bytes);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The tab's secret for this app key, created on first use; a fresh one where sessionStorage is missing or blocked. */
export function tabSecret(appKey: string): string {
  const key = `gmnet:identity:${appKey}`;
  try {
    const storage = (globalThis as { sessionStorage?: Storage }).sessionStorage;
    if (storage === undefined) return randomSecret();
    const existing = storage.getItem(key);
    if (existing !== null && /^[A-Za-z0-9_-]{22,128}$/.test(existing)) return existing;
    const secret = randomSecret();
    storage.setItem(key, secret);
    return secret;
  } catch {
    return randomSecret();
  }
}

/** ws(s)://<page host>/ws in a browser page; undefined elsewhere. */
export function defaultSignalingUrl(): string | undefined {
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (location === undefined || !location.host || !/^https?:$/.test(location.protocol)) return undefined;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
