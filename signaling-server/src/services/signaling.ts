/**
 * WebRTC signaling (Channel.SIGNAL): clients of one app key exchange offers, answers and ICE
 * candidates through the server by virtual IP, and fetch the ICE server list, with short-lived
 * TURN credentials when a TURN secret is configured.
 *
 * The server never trusts the sender's claim about itself: a relayed SIGNAL_RELAY carries the
 * sender's virtual IP as stamped from its session. A target that is offline, or belongs to
 * another app key, is answered with ERROR NOT_A_PARTICIPANT (refId = pairId); the two cases are
 * indistinguishable so a client cannot probe other apps' addresses.
 */
import { createHmac } from "node:crypto";
import {
  Channel,
  IceServers,
  IceServersRequest,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  formatIpv4,
} from "@gmnet/engine/protocol";
import type { ServerConfig } from "../config.js";
import type { ServerContext } from "../server-context.js";
import { RateLimiter } from "../session/rate-limiter.js";
import type { Session, SessionLifecycle } from "../session/session.js";

const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(SignalKind));
/** The signaling rate limit is counted over this window: config.signalRateLimit relays per 10 s. */
const SIGNAL_WINDOW_SECONDS = 10;

type IceServer = ServerConfig["iceServers"][number];

export function createSignalingService(context: ServerContext): SessionLifecycle {
  const { router, directory, config, clock } = context;
  const limiters = new Map<Session, RateLimiter>();

  const limiterOf = (session: Session): RateLimiter => {
    let limiter = limiters.get(session);
    if (limiter === undefined) {
      limiter = new RateLimiter(config.signalRateLimit / SIGNAL_WINDOW_SECONDS, config.signalRateLimit, clock.now());
      limiters.set(session, limiter);
    }
    return limiter;
  };

  router.on(Channel.SIGNAL, SignalType.RELAY, (session, payload) => {
    const relay = SignalRelay.decode(payload);
    const refuse = (code: number, message: string): void => session.sendError(code, Channel.SIGNAL, SignalType.RELAY, relay.pairId, message);
    if (!KNOWN_KINDS.has(relay.kind)) return refuse(ProtocolError.MALFORMED_PAYLOAD, `unknown signal kind ${relay.kind}`);
    if (config.signalRateLimit > 0 && !limiterOf(session).take(clock.now())) {
      return refuse(ProtocolError.RATE_LIMITED, `more than ${config.signalRateLimit} signaling messages per ${SIGNAL_WINDOW_SECONDS} s`);
    }
    const target = directory.lookup(session.appKey, relay.peerIp);
    if (target === undefined || target.closed) return refuse(ProtocolError.NOT_A_PARTICIPANT, `no client of this app holds ${formatIpv4(relay.peerIp)}`);
    target.send(
      Channel.SIGNAL,
      SignalType.RELAY,
      Priority.HIGH,
      SignalRelay.encode({ peerIp: session.virtualIp, pairId: relay.pairId, kind: relay.kind, data: relay.data }),
    );
  });

  router.on(Channel.SIGNAL, SignalType.ICE_SERVERS_REQUEST, (session, payload) => {
    const { reqId } = IceServersRequest.decode(payload);
    // validateConfig keeps the list (with credentials) within the message's 8 KiB string limit.
    const json = JSON.stringify(iceServersFor(config, session.virtualIp, clock.wallNow?.() ?? Date.now()));
    session.send(Channel.SIGNAL, SignalType.ICE_SERVERS, Priority.HIGH, IceServers.encode({ reqId, json }));
  });

  return {
    onSessionClose(session) {
      limiters.delete(session);
    },
  };
}

/**
 * The RTCIceServer list for one client. With a TURN secret, every entry with a turn:/turns: URL
 * gets coturn `use-auth-secret` credentials (TURN REST API): username `expiry:virtualIp`,
 * credential base64(HMAC-SHA1(secret, username)), valid until `expiry` (Unix seconds).
 */
export function iceServersFor(config: Pick<ServerConfig, "iceServers" | "turnSecret" | "turnCredentialTtlSeconds">, virtualIp: number, nowMs: number): IceServer[] {
  const secret = config.turnSecret;
  if (secret === undefined || secret === "") return config.iceServers;
  const expiry = Math.floor(nowMs / 1000) + config.turnCredentialTtlSeconds;
  const username = `${expiry}:${formatIpv4(virtualIp)}`;
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return config.iceServers.map((server) => (isTurn(server) ? { ...server, username, credential } : server));
}

function isTurn(server: IceServer): boolean {
  const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
  return urls.some((url) => url.startsWith("turn:") || url.startsWith("turns:"));
}
