/**
 * The outbound bridge's allow list (`--gm-bridge-allow host:port`, repeatable; docs/GAMEMAKER.md
 * "Browser client → native GameMaker server"). Nothing is allowed by default: the server is never
 * an open proxy. The rules:
 *
 *   1. A request matches an entry only if its host and port are exactly the entry's (host names
 *      case-insensitive, a trailing dot ignored, IP addresses compared in canonical form). There are
 *      no wildcards, no ranges and no "any port".
 *   2. An entry that is an IP address is dialed as it is, whatever range it is in: naming a
 *      loopback or private address is how the operator allows one.
 *   3. An entry that is a DNS name is resolved at connect time; the connection goes to the first
 *      resolved address that is public, or that is itself listed with the same port (so
 *      `lan-box:6510` resolving to 192.168.1.20 needs `192.168.1.20:6510` too). A name that resolves
 *      only to non-public, unlisted addresses is refused (NOT_ALLOWED): a DNS change cannot turn an
 *      entry into a way into the server's own network. The address checked is the address dialed.
 *   4. Addresses inside the virtual network (--virtual-network) are never bridged: such an entry
 *      is a configuration error, and such a request is answered OFFLINE (it names a virtual host).
 */
import { BlockList, isIP } from "node:net";

export interface AllowEntry {
  /** Canonical host: a lower-case DNS name without a trailing dot, a dotted IPv4, or an IPv6 address (no brackets). */
  readonly host: string;
  readonly port: number;
  /** 0 for a DNS name, else 4 or 6. */
  readonly family: 0 | 4 | 6;
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A host as a script or an operator wrote it, in canonical form; undefined if it is no host at all. */
export function canonicalHost(text: string): { host: string; family: 0 | 4 | 6 } | undefined {
  let host = text.trim();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const family = isIP(host);
  if (family === 4) {
    // Node accepts only canonical dotted quads (no leading zeros, no short forms).
    return { host, family: 4 };
  }
  if (family === 6) {
    // The URL parser writes IPv6 addresses in their canonical (RFC 5952) form.
    const canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    return { host: canonical, family: 6 };
  }
  host = host.toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  // A name made of digits and dots only would be read as an address by some resolvers: not a name.
  if (!DNS_NAME.test(host) || /^[\d.]+$/.test(host)) return undefined;
  return { host, family: 0 };
}

/** Parses one `host:port` entry (IPv6 as `[::1]:6510`); throws an Error that says what is wrong. */
export function parseAllowEntry(text: string): AllowEntry {
  const trimmed = text.trim();
  const match = /^(\[[^\]]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(trimmed);
  const port = match ? Number(match[2]) : NaN;
  const host = match ? canonicalHost(match[1]!) : undefined;
  if (host === undefined || !(port >= 1 && port <= 65535)) {
    throw new Error(`--gm-bridge-allow ${JSON.stringify(text)} must be host:port with a DNS name, an IPv4 address or a [bracketed] IPv6 address and a port 1–65535, like game.example.com:6510 or 127.0.0.1:6510`);
  }
  return { host: host.host, port, family: host.family };
}

export function formatAllowEntry(entry: { host: string; port: number; family: number }): string {
  return entry.family === 6 ? `[${entry.host}]:${entry.port}` : `${entry.host}:${entry.port}`;
}

/** Addresses a DNS name may not lead to unless they are listed themselves (rule 3). */
const NON_PUBLIC = (() => {
  const list = new BlockList();
  for (const [address, prefix] of [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4],
    ["240.0.0.0", 4],
  ] as const) list.addSubnet(address, prefix, "ipv4");
  for (const [address, prefix] of [
    ["::", 128],
    ["::1", 128],
    ["64:ff9b::", 96],
    ["100::", 64],
    ["2001:db8::", 32],
    ["fc00::", 7],
    ["fe80::", 10],
    ["ff00::", 8],
  ] as const) list.addSubnet(address, prefix, "ipv6");
  return list;
})();

/** Whether an address is loopback, private, link-local, shared, documentation, multicast or reserved. */
export function isNonPublic(address: string, family: 4 | 6): boolean {
  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are never taken as public: list them to allow them.
  if (family === 6 && (canonicalHost(address)?.host ?? address).startsWith("::ffff:")) return true;
  return NON_PUBLIC.check(address, family === 4 ? "ipv4" : "ipv6");
}

export class AllowList {
  private readonly entries: Set<string>;

  constructor(readonly list: readonly AllowEntry[]) {
    this.entries = new Set(list.map((entry) => formatAllowEntry(entry)));
  }

  get size(): number {
    return this.list.length;
  }

  /** Rule 1: the entry a canonical request matches, if any. */
  match(host: { host: string; family: 0 | 4 | 6 }, port: number): AllowEntry | undefined {
    const key = formatAllowEntry({ ...host, port });
    return this.entries.has(key) ? this.list.find((entry) => formatAllowEntry(entry) === key) : undefined;
  }

  /** Rule 3: whether an address a name resolved to may be dialed for that port. */
  addressAllowed(address: string, family: 4 | 6, port: number): boolean {
    return !isNonPublic(address, family) || this.entries.has(formatAllowEntry({ host: canonicalHost(address)?.host ?? address, port, family }));
  }
}
