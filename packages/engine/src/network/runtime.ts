/**
 * The network half of one engine: the signaling connection (opened on first need, reopened with
 * backoff after a loss while sockets or a master login still need it), the virtual host, the
 * WebRTC peer links for UDP (with their ICE servers, udp/ice-servers.ts), the link simulation,
 * engine-wide counters and the settings of network_set_config. network_* functions (api.ts),
 * the socket classes and the master client (master/) are built over one shared instance.
 */
import { ev_async_web_networking } from "../events/async-events.js";
import { Channel, SignalRelay, SignalType, VSocketType, VirtualIp, formatIpv4 } from "@gmnet/protocol";
import type { EngineContext } from "../runtime/context.js";
import { LinkConditioner } from "./conditioner.js";
import { network_type_down, network_type_encryption, network_type_up, network_type_up_failed } from "./constants.js";
import { PayloadCrypto } from "./e2e.js";
import { NetworkError, type NetworkFault, fault } from "./errors.js";
import { defaultSignalingUrl, randomSecret, tabSecret } from "./identity.js";
import { SignalingClient } from "./signaling/signaling-client.js";
import { VirtualHost } from "./vsockets/virtual-host.js";
import { TrafficStats } from "./stats.js";
import type { WebSocketServerConstructor } from "./transport/node-listener.js";
import { type WebSocketConstructor, platformWebSocket } from "./transport/websocket-like.js";
import { PeerLinks } from "./udp/peer-links.js";
import type { IceServer, SignalPort, WebRtcImplementation } from "./udp/signal-port.js";
import { IceServerSource } from "./udp/ice-servers.js";

export interface NetworkOptions {
  /** The WebSocket class: the platform's by default; pass the `ws` package's in Node < 22. */
  WebSocket?: WebSocketConstructor;
  /** WebRTC for UDP sockets: the browser's by default; pass `@roamhq/wrtc` in Node. */
  wrtc?: WebRtcImplementation;
  /** ws(s):// URL of the signaling server. Default: /ws on the page's host (browsers). */
  signalingUrl?: string;
  /** App key; engines with different keys never see each other. Default "gmnet". */
  appKey?: string;
  /** Identity secret (22–128 base64url characters) that keeps the virtual IP. Default: per tab / per engine. */
  secret?: string;
  /** Randomness for backoff jitter and the link simulation. */
  random?: () => number;
  /**
   * Resume the session after a dropped connection (PROTOCOL.md §14): within the server's resume
   * window a drop is invisible to scripts and loses nothing. Default true.
   */
  resume?: boolean;
  /** How often the round trip to the server is measured (ms); default 2000. */
  echoIntervalMs?: number;
  /** A server that leaves the ECHO probes unanswered this long is taken as gone (also a stalled or half-open path), and the session is resumed on a new socket; default 3 echo intervals. */
  livenessTimeoutMs?: number;
  /** First reconnect delay (ms, with jitter, doubling up to 15 s); default 500. */
  reconnectDelayMs?: number;
  /** Bytes held while the connection is down, and kept until the server acknowledges them; default 8 MiB. */
  maxHeldBytes?: number;
  /**
   * Node only, off by default: servers also listen on a real port (docs/NETWORK.md "Real ports"),
   * network_socket_tcp for native GameMaker clients, network_socket_ws for WebSocket clients
   * (GameMaker's HTML5 runner), besides the virtual IP. `true` is `{}`.
   */
  listen?: boolean | ListenOptions;
}

export interface ListenOptions {
  /** The interface to listen on; default "0.0.0.0" (every IPv4 address). "::" adds IPv6, "127.0.0.1" keeps it to this machine. */
  host?: string;
  /**
   * The real port for a server created on `port` (its network_socket_* `type`); default: the same
   * port. 0 picks a free one; network_type_listen tells which.
   */
  port?: (port: number, type: number) => number;
  /** The `ws` package's WebSocketServer, for network_socket_ws servers; default: imported from "ws" when first needed. */
  WebSocketServer?: WebSocketServerConstructor;
}

export interface NetworkSettings {
  signalingUrl: string | undefined;
  appKey: string;
  tickRate: number;
  iceServers: IceServer[] | undefined;
  webrtc: boolean;
  connectTimeoutMs: number;
  messageSizeLimit: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default incoming and outgoing message limit (network_config_message_size_limit), 1 MiB. */
export const DEFAULT_MESSAGE_SIZE_LIMIT = 1024 * 1024;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15_000;
/** Close codes after which reconnecting would not help (REPLACED, and the 45xx "fix something" range). */
const NO_RECONNECT = (code: number): boolean => code === 4003 || (code >= 4500 && code < 5000);

interface Waiter {
  ready(): void;
  failed(problem: NetworkFault): void;
}

export class NetworkRuntime {
  readonly settings: NetworkSettings;
  readonly signaling: SignalingClient;
  readonly host: VirtualHost;
  readonly links: PeerLinks;
  readonly conditioner: LinkConditioner;
  readonly totals = new TrafficStats();
  /** End-to-end payload encryption (network_config_encryption): its key, counters and replay windows. */
  readonly e2e: PayloadCrypto;

  private readonly needs: Array<() => boolean> = [];
  private readonly lossListeners: Array<(problem: NetworkFault) => void> = [];
  private readonly openListeners: Array<() => void> = [];
  private waiting: Waiter[] = [];
  private lastIp = 0;
  private reconnectTimer: unknown;
  private reconnectDelay: number;
  private readonly ice: IceServerSource;
  private readonly secretFor: (appKey: string) => string;

  constructor(
    private readonly context: EngineContext,
    readonly options: NetworkOptions = {},
  ) {
    const random = options.random ?? Math.random;
    this.reconnectDelay = this.reconnectMin;
    this.settings = {
      signalingUrl: options.signalingUrl ?? defaultSignalingUrl(),
      appKey: options.appKey ?? "gmnet",
      tickRate: 0,
      iceServers: undefined,
      webrtc: true,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      messageSizeLimit: DEFAULT_MESSAGE_SIZE_LIMIT,
    };
    const given = options.secret;
    const perEngine = new Map<string, string>();
    this.secretFor = (appKey) => {
      if (given !== undefined) return given;
      if ((globalThis as { window?: unknown }).window !== undefined) return tabSecret(appKey);
      let secret = perEngine.get(appKey);
      if (secret === undefined) perEngine.set(appKey, (secret = randomSecret()));
      return secret;
    };
    this.signaling = new SignalingClient({
      url: "",
      appKey: this.settings.appKey,
      secret: "",
      WebSocket: options.WebSocket ?? missingWebSocket,
      clock: context.clock,
      tickRate: 0,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      resume: options.resume,
      echoIntervalMs: options.echoIntervalMs,
      livenessTimeoutMs: options.livenessTimeoutMs,
      maxHeldBytes: options.maxHeldBytes,
    });
    this.e2e = new PayloadCrypto(
      context.clock,
      () => this.settings.appKey,
      (kind, peerIp, why, where) =>
        this.emit({
          type: network_type_encryption,
          id: -1,
          succeeded: 0,
          kind,
          ip: formatIpv4(peerIp),
          ...(kind === "channel" ? { channel: where } : { port: where }),
          error: NetworkError.DECRYPT,
          message:
            why === "replay"
              ? `a ${kind} message from ${formatIpv4(peerIp)} was a replay and was dropped`
              : why === "no-key"
                ? `${formatIpv4(peerIp)} did not answer the pair-mode key exchange; the datagrams waiting for it were dropped`
                : `a ${kind} message from ${formatIpv4(peerIp)} failed authentication (another key, no encryption there, or tampered with) and was dropped`,
        }),
    );
    this.host = new VirtualHost({ signaling: this.signaling, clock: context.clock, e2e: this.e2e });
    // Pair mode's key datagrams go through the relay, outside the script's traffic and statistics.
    this.e2e.localIp = () => this.host.localIp;
    this.e2e.sendKey = (peerIp, peerPort, localPort, bytes) => void this.host.sendDatagram(peerIp, peerPort, localPort, bytes);
    this.conditioner = new LinkConditioner(context.clock, random);
    this.ice = new IceServerSource(this.signaling, context.clock, () => this.settings.iceServers);
    this.links = new PeerLinks({
      signal: this.signalPort(),
      wrtc: options.wrtc,
      clock: context.clock,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      retryAfterMs: 30_000,
      onDatagram: (peerIp, srcPort, dstPort, data) => this.host.deliverDatagram(peerIp, srcPort, dstPort, data, "p2p"),
    });
    this.signaling.onOpen = () => this.opened();
    this.signaling.onClose = (problem, wasOpen, code) => this.closed(problem, wasOpen, code);
    // A drop the session will survive: reconnect soon, and tell the script nothing.
    this.signaling.onSuspend = () => this.scheduleReconnect();
    this.signaling.onResume = () => {
      this.reconnectDelay = this.reconnectMin;
    };
    this.signaling.onError = (error) => {
      this.host.onServerError(error);
    };
    this.signaling.on(Channel.VSOCKET, VSocketType.VIRTUAL_IP, (payload) => this.moved(VirtualIp.decode(payload).ip));
  }

  /** The `listen` option with its defaults, or undefined when servers listen on the virtual IP only. */
  get listenOptions(): (ListenOptions & { host: string }) | undefined {
    const listen = this.options.listen;
    if (listen === undefined || listen === false) return undefined;
    return { host: "0.0.0.0", ...(listen === true ? {} : listen) };
  }

  /** Connected, or suspended (a dropped connection that is being resumed: sends are held for it). */
  get online(): boolean {
    return this.signaling.state === "open" || this.signaling.suspended;
  }

  private get reconnectMin(): number {
    return this.options.reconnectDelayMs ?? RECONNECT_MIN_MS;
  }

  /**
   * Adds a reason to keep the signaling connection: after a loss the runtime reconnects (with
   * backoff) while any of them says yes. Sockets need it; so does a master login, which resumes
   * with its token in the next HELLO.
   */
  addNeed(needs: () => boolean): void {
    this.needs.push(needs);
  }

  needsNetwork(): boolean {
    return this.needs.some((needs) => needs());
  }

  /** Calls `listener` whenever an open signaling connection ends (lost, or closed by network_shutdown). */
  onConnectionLost(listener: (problem: NetworkFault) => void): void {
    this.lossListeners.push(listener);
  }

  /** Calls `listener` whenever a new session opens (not when a suspended one resumes: that keeps everything). */
  onSessionOpened(listener: () => void): void {
    this.openListeners.push(listener);
  }

  /** Runs `ready` once connected to the signaling server (now, if already), or `failed` if that fails. */
  whenOnline(ready: () => void, failed: (problem: NetworkFault) => void): void {
    if (this.online) return ready();
    this.waiting.push({ ready, failed });
    this.connect();
  }

  /** Queues an ev_async_web_networking event; `release` runs after its handler (data buffers). */
  emit(load: Record<string, unknown>, release?: () => void): void {
    this.context.events.push(ev_async_web_networking, load, release);
  }

  /** Closes the signaling connection and every link (engine shutdown, tests). */
  shutdown(): void {
    const problem = fault(NetworkError.SIGNALING, "the engine's network was shut down");
    const wasOpen = this.online;
    this.clearReconnect();
    this.links.close();
    this.signaling.close();
    this.host.signalingLost(problem);
    if (wasOpen) this.connectionLost(problem);
    this.failWaiting(problem);
  }

  private connect(): void {
    if (this.signaling.state === "connecting" || this.signaling.state === "open") return;
    const url = this.settings.signalingUrl;
    const WebSocket = this.options.WebSocket ?? platformWebSocket();
    if (url === undefined || WebSocket === undefined) {
      const why = url === undefined ? "no signaling server URL is set (network_config_signaling_url)" : "this platform has no WebSocket; pass one to createEngine({ network: { WebSocket } })";
      queueMicrotask(() => this.closed(fault(NetworkError.SIGNALING, why), false, 0));
      return;
    }
    this.clearReconnect();
    Object.assign(this.signaling.options, {
      url,
      WebSocket,
      appKey: this.settings.appKey,
      secret: this.secretFor(this.settings.appKey),
      tickRate: this.settings.tickRate,
      connectTimeoutMs: this.settings.connectTimeoutMs,
    });
    this.signaling.connect();
  }

  private opened(): void {
    // Peer links are keyed by this engine's address; a new identity (other app key) starts afresh.
    const ip = this.host.localIp;
    if (this.lastIp !== 0 && ip !== this.lastIp) this.links.close();
    this.lastIp = ip;
    this.clearReconnect();
    this.reconnectDelay = this.reconnectMin;
    this.ice.connectionOpened();
    this.host.signalingOpened();
    for (const listener of this.openListeners) listener();
    this.emit({ type: network_type_up, id: -1, ip: this.localAddress(), port: 0 });
    const waiting = this.waiting;
    this.waiting = [];
    for (const waiter of waiting) waiter.ready();
  }

  private closed(problem: NetworkFault, wasOpen: boolean, code: number): void {
    this.links.close();
    this.ice.connectionClosed();
    if (wasOpen) {
      this.host.signalingLost(problem);
      this.emit({ type: network_type_down, id: -1, ip: "", port: 0, error: problem.code, message: problem.message });
      this.connectionLost(problem);
    } else {
      this.emit({ type: network_type_up_failed, id: -1, ip: "", port: 0, error: problem.code, message: problem.message });
    }
    this.failWaiting(problem);
    if (!NO_RECONNECT(code) && this.needsNetwork()) this.scheduleReconnect();
  }

  /**
   * VSOCKET VIRTUAL_IP: the server moved this connection to another address (PROTOCOL.md §16.3).
   * For the game this is a reconnect that got a new address: streams on the old one end with
   * network_type_disconnect, peer links (keyed by address) close, UDP ports are bound and the
   * host name claimed again, and network_type_up reports the new ip. Listening servers keep
   * listening; frames for the old streams that are still on their way are ignored (unknown connIds).
   */
  private moved(ip: number): void {
    const welcome = this.signaling.welcome;
    if (welcome === undefined || this.signaling.state !== "open" || ip === welcome.virtualIp) return;
    const from = this.localAddress();
    this.signaling.welcome = { ...welcome, virtualIp: ip };
    this.links.close();
    this.lastIp = ip;
    this.host.addressChanged(fault(NetworkError.ADDRESS_CHANGED, `this engine moved from ${from} to ${formatIpv4(ip)} (a master login, logout or resume)`));
    this.emit({ type: network_type_up, id: -1, ip: this.localAddress(), port: 0 });
  }

  private connectionLost(problem: NetworkFault): void {
    for (const listener of this.lossListeners) listener(problem);
  }

  private failWaiting(problem: NetworkFault): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const waiter of waiting) waiter.failed(problem);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined) return;
    // Full jitter, so a restarted server is not hit by every client at the same moment.
    const delay = this.reconnectDelay * (0.5 + (this.options.random ?? Math.random)() / 2);
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = this.context.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      // A suspended session is always resumed: the server holds data for it, and so do we.
      if (this.needsNetwork() || this.signaling.suspended) this.connect();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer === undefined) return;
    this.context.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  /** This engine's virtual IP, dotted, or "" before the first connection. */
  localAddress(): string {
    const ip = this.host.localIp;
    return ip === 0 ? "" : formatIpv4(ip);
  }

  private signalPort(): SignalPort {
    const port: SignalPort = {
      localIp: () => this.host.localIp,
      sendSignal: (peerIp, pairId, kind, data) => this.signaling.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp, pairId, kind, data }), 1),
      onSignal: undefined,
      iceServers: () => this.ice.iceServers(),
    };
    this.signaling.on(Channel.SIGNAL, SignalType.RELAY, (payload) => {
      const relay = SignalRelay.decode(payload);
      port.onSignal?.(relay.peerIp, relay.pairId, relay.kind, relay.data);
    });
    return port;
  }
}

const missingWebSocket = function missingWebSocket() {
  throw new Error("no WebSocket implementation");
} as unknown as WebSocketConstructor;
