/**
 * WebRTC signaling (Channel.SIGNAL): clients of one app key exchange offers, answers and ICE
 * candidates through the server by virtual IP, and fetch the ICE server list, with short-lived
 * TURN credentials when a TURN secret is configured.
 *
 * The server never trusts the sender's claim about itself: a relayed SIGNAL_RELAY carries the
 * sender's virtual IP as stamped from its session. A target that is offline, or belongs to
 * another app key, is answered with ERROR NOT_A_PARTICIPANT (refId = pairId); the two cases are
 * indistinguishable so a client cannot probe other apps' addresses.
 *
 * With --redis (`cluster`) a target that is not a session of this node is looked up in the route
 * table and the relay, stamped here, goes through its node's stream; that node delivers it, or
 * answers with a refusal when the session is gone (a race), so the sender still gets
 * NOT_A_PARTICIPANT. The rate limit stays per sender, on the sender's node.
 */
import { createHmac } from "node:crypto";
import {
  Channel,
  IceServers,
  IceServersRequest,
  type MessageOf,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  formatIpv4,
} from "@gmnet/protocol";
import type { ClusterLink } from "../cluster/cluster.js";
import type { ServerConfig } from "../config.js";
import type { ServerContext } from "../server-context.js";
import { RateLimiter } from "../session/rate-limiter.js";
import type { Session, SessionLifecycle } from "../session/session.js";

const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(SignalKind));
/** The signaling rate limit is counted over this window: config.signalRateLimit relays per 10 s. */
const SIGNAL_WINDOW_SECONDS = 10;

type IceServer = ServerConfig["iceServers"][number];

/** `cluster` (--redis): targets not held here are looked up in the route table and reached through their node's stream. */
export function createSignalingService(context: ServerContext, cluster?: ClusterLink): SessionLifecycle {
  const { router, directory, config, clock, sessions, logger } = context;
  const limiters = new Map<Session, RateLimiter>();
  /**
   * Sender → its latest relay still waiting for a route lookup (or for earlier relays that do).
   * Every later relay of that sender waits behind it, local ones too, so none overtakes another.
   */
  const waiting = new Map<Session, Promise<void>>();

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
    const { appKey } = session;
    // Stamped now: the sender's address when it sent this, whatever it moves to while a lookup runs.
    const stamped = { peerIp: session.virtualIp, pairId: relay.pairId, kind: relay.kind, data: relay.data };
    const offline = (): void => refuse(ProtocolError.NOT_A_PARTICIPANT, `no client of this app holds ${formatIpv4(relay.peerIp)}`);
    const local = (): Session | undefined => {
      const target = directory.lookup(appKey, relay.peerIp);
      return target === undefined || target.closed ? undefined : target;
    };
    const here = local();
    const earlier = waiting.get(session);
    if (cluster === undefined || (earlier === undefined && here !== undefined)) return here === undefined ? offline() : deliver(here, stamped);

    // The lookup starts now (Redis answers in order); the relay acts only after the sender's earlier ones did.
    const located = here === undefined ? cluster.locate(appKey, relay.peerIp) : undefined;
    const turn = Promise.all([earlier, located])
      .then(([, node]) => {
        if (session.closed) return;
        const target = local();
        if (target !== undefined) return deliver(target, stamped);
        if (node === undefined) return offline();
        cluster.send(node, { t: "signal", appKey, ip: relay.peerIp, fromIp: stamped.peerIp, pairId: stamped.pairId, kind: stamped.kind, data: stamped.data, sessionId: session.id });
      })
      .catch((error: unknown) => logger.error({ err: error, session: session.id }, "signaling: relaying to another node failed"));
    waiting.set(session, turn);
    void turn.finally(() => {
      if (waiting.get(session) === turn) waiting.delete(session);
    });
  });

  // A relay from a session on another node, stamped there.
  cluster?.on("signal", (from, { appKey, ip, fromIp, pairId, kind, data, sessionId }) => {
    const target = directory.lookup(appKey, ip);
    // The session left (or moved) after the sender's node looked the route up: refused, never dropped.
    if (target === undefined || target.closed) return cluster.send(from, { t: "signal-refused", sessionId, ip, pairId });
    deliver(target, { peerIp: fromIp, pairId, kind, data });
  });

  cluster?.on("signal-refused", (_from, { sessionId, ip, pairId }) => {
    sessions.get(sessionId)?.sendError(ProtocolError.NOT_A_PARTICIPANT, Channel.SIGNAL, SignalType.RELAY, pairId, `no client of this app holds ${formatIpv4(ip)}`);
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
      waiting.delete(session);
    },
  };
}

function deliver(target: Session, relay: MessageOf<typeof SignalRelay>): void {
  target.send(Channel.SIGNAL, SignalType.RELAY, Priority.HIGH, SignalRelay.encode(relay));
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
