/**
 * `--gm-bridge <port>=<target>:<virtual port>[@<app key>]`: one real TCP port of the server that
 * native GameMaker games connect to, and the virtual server (a host name claimed with
 * network_config_hostname, or a virtual IP) in an app key that each connection is relayed to.
 */
import { APP_KEY_RULE, isValidAppKey, parseIpv4 } from "@gmnet/protocol";

export interface GmBridgeSpec {
  /** The real TCP port the server listens on for this bridge (0 picks a free one). */
  port: number;
  /** A host name claimed in the app key, or a dotted virtual IP. */
  target: string;
  /** The virtual port the target's network_create_server listens on. */
  targetPort: number;
  appKey: string;
}

/** The engine's default app key (network_config_app_key), used when a bridge names none. */
export const DEFAULT_BRIDGE_APP_KEY = "gmnet";

/** As HOSTNAME_CLAIM accepts (services/vsockets/names.ts). */
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/;
const SPEC = /^(\d{1,5})=([^:@\s]+):(\d{1,5})(?:@(\S+))?$/;

/** Parses one entry; throws an Error whose message says what is wrong. */
export function parseGmBridgeSpec(text: string): GmBridgeSpec {
  const match = SPEC.exec(text.trim());
  if (match === null) throw new Error(`--gm-bridge ${JSON.stringify(text)} must look like 6510=arena:6510 or 6510=arena:6510@my-app-key`);
  const [, port, target, targetPort, appKey = DEFAULT_BRIDGE_APP_KEY] = match;
  return validateGmBridgeSpec({ port: Number(port), target: target!, targetPort: Number(targetPort), appKey });
}

export function validateGmBridgeSpec(spec: GmBridgeSpec): GmBridgeSpec {
  const shown = formatGmBridgeSpec(spec);
  if (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535) throw new Error(`gm-bridge ${shown}: the real port must be 0–65535`);
  if (!Number.isInteger(spec.targetPort) || spec.targetPort < 1 || spec.targetPort > 65535) throw new Error(`gm-bridge ${shown}: the virtual port must be 1–65535`);
  if (typeof spec.target !== "string" || (parseIpv4(spec.target) === undefined && !HOSTNAME.test(spec.target))) {
    throw new Error(`gm-bridge ${shown}: the target must be a host name (1–63 characters of A–Z a–z 0–9 . -) or a virtual IP`);
  }
  if (typeof spec.appKey !== "string" || !isValidAppKey(spec.appKey)) throw new Error(`gm-bridge ${shown}: the app key must be ${APP_KEY_RULE}`);
  return spec;
}

export function formatGmBridgeSpec(spec: GmBridgeSpec): string {
  return `${spec.port}=${spec.target}:${spec.targetPort}@${spec.appKey}`;
}
