/**
 * GameMaker bridges (docs/GAMEMAKER.md): for each `--gm-bridge <port>=<target>:<vport>@<app key>`
 * the server listens on a real TCP port, and every accepted connection becomes a virtual stream to
 * the tab that holds <target> in <app key>, as if a client engine had called network_connect.
 *
 * Addresses: every bridge has one virtual IP of its own in its app key (a service identity in the
 * storage, looked up before the bridge listens, keyed by the bridge's real port, so it is the same across restarts), and each
 * connection gets a distinct ephemeral virtual port (49152–65535) while it is open. The tab sees
 * network_type_connect from <bridge IP>:<ephemeral port>.
 *
 * Clients: native GameMaker games (plain TCP) and GameMaker HTML5 exports (WebSocket,
 * network_socket_ws) on the same port, told apart by their first bytes (bridged-connection.ts).
 * When the server has TLS configured (--tls-cert/--tls-key), the same port also takes TLS clients
 * (`wss://` from an HTML5 export served over https, or TLS TCP) with the server's certificate,
 * read once for every bridge; plain clients keep working beside them.
 */
import { type AddressInfo, type Server, type Socket, createServer as createTcpServer } from "node:net";
import { type SecureContext, createSecureContext } from "node:tls";
import { formatIpv4, parseIpv4 } from "@gmnet/protocol";
import { GM_BRIDGE_EPHEMERAL_PORTS } from "../config.js";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../storage/storage.js";
import type { SessionCloseCause, SessionLifecycle } from "../session/session.js";
import type { WebSocket } from "ws";
import { type BridgeHost, BridgedConnection } from "./bridged-connection.js";
import type { BridgeEndReason } from "./end-reason.js";
import { type GmBridgeSpec, formatGmBridgeSpec } from "./spec.js";
import { WsUpgrader } from "./ws-upgrade.js";

const FIRST_EPHEMERAL_PORT = 65536 - GM_BRIDGE_EPHEMERAL_PORTS;
/** End reasons counted in gmnet_gm_bridge_refused_total (with those refused at accept). */
const REFUSED: ReadonlySet<BridgeEndReason> = new Set<BridgeEndReason>(["offline", "not-listening", "refused", "timeout", "bad-handshake", "tls-error", "tls-timeout"]);

/** What the server tells about a bridge once it listens. */
export interface GmBridgeInfo {
  /** The real address native games connect to. */
  readonly host: string;
  readonly port: number;
  readonly target: string;
  readonly targetPort: number;
  readonly appKey: string;
  /** The virtual IP every connection of this bridge comes from, as the tab sees it. */
  readonly virtualIp: string;
  /** Connections open now. */
  readonly connections: number;
  /** Whether the port also takes TLS clients (the server has a certificate). */
  readonly tls: boolean;
}

export interface GmBridges {
  /** Resolves once every bridge listens. */
  readonly ready: Promise<void>;
  list(): GmBridgeInfo[];
  /** Stops accepting and ends every bridged connection (its tab hears SHUTDOWN). */
  close(): Promise<void>;
}

/** `tls`: the server's certificate and key (--tls-cert, --tls-key), when it has them: bridge ports then take TLS clients too. */
export function createGmBridges(context: ServerContext, services: SessionLifecycle, tls?: { cert: Buffer; key: Buffer }): GmBridges {
  const { config } = context;
  const perAddress = new Map<string, number>();
  // The main listener's certificate and key, read once for all the bridges.
  const secureContext =
    config.gmBridges.length > 0 && tls !== undefined ? createSecureContext(tls) : undefined;
  const bridges = config.gmBridges.map((spec, index) => new Bridge(context, services, spec, index, perAddress, secureContext));
  const servers = bridges.map((bridge) => bridge.server);
  const ready = Promise.all(bridges.map((bridge) => bridge.listen())).then(() => undefined);
  return {
    ready,
    list: () => bridges.map((bridge) => bridge.info()),
    async close() {
      await ready.catch(() => undefined);
      await Promise.all(
        servers.map(
          (server, index) =>
            new Promise<void>((resolve) => {
              if (!server.listening) return resolve();
              server.close(() => resolve());
              bridges[index]!.endAll();
            }),
        ),
      );
    },
  };
}

class Bridge implements BridgeHost {
  readonly server: Server;
  readonly label: string;
  private readonly identityName: string;
  /** The bridge's service identity, known once listen() has looked it up (before any connection is accepted). */
  private serviceIdentity: Identity | undefined;
  private readonly open = new Set<BridgedConnection>();
  private readonly portsInUse = new Set<number>();
  private nextPort = FIRST_EPHEMERAL_PORT;
  private readonly sockets = new Set<Socket>();
  /** WebSocket clients' handshakes; their messages are at most maxQueuedBytes. */
  private readonly upgrader: WsUpgrader;

  constructor(
    private readonly context: ServerContext,
    private readonly services: SessionLifecycle,
    private readonly spec: GmBridgeSpec,
    index: number,
    private readonly perAddress: Map<string, number>,
    readonly secureContext: SecureContext | undefined,
  ) {
    this.label = formatGmBridgeSpec(spec);
    // Keyed by the real port: the address stays when the target changes. Port 0 (a free port, for
    // tests) has no stable number, so such bridges are told apart by their place in the list.
    this.identityName = spec.port === 0 ? `gm-bridge:0#${index}` : `gm-bridge:${spec.port}`;
    this.upgrader = new WsUpgrader(context.config.maxQueuedBytes);
    this.server = createTcpServer({ pauseOnConnect: false, noDelay: true }, (socket) => this.accept(socket));
    this.server.on("error", (error) => context.logger.error({ err: error, bridge: this.label }, "gm bridge: server error"));
  }

  get identity(): Identity {
    if (this.serviceIdentity === undefined) throw new Error(`gm bridge ${this.label}: not listening yet`);
    return this.serviceIdentity;
  }

  get appKey(): string {
    return this.spec.appKey;
  }

  get target(): string {
    return this.spec.target;
  }

  get targetPort(): number {
    return this.spec.targetPort;
  }

  async listen(): Promise<void> {
    this.serviceIdentity = await this.context.storage.identities.serviceIdentity(this.spec.appKey, this.identityName);
    return new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void => reject(new Error(`gm bridge ${this.label}: cannot listen on port ${this.spec.port}: ${error.message}`));
      this.server.once("error", failed);
      this.server.listen(this.spec.port, this.context.config.host, () => {
        this.server.off("error", failed);
        const info = this.info();
        this.context.logger.info({ bridge: this.label, port: info.port, virtualIp: info.virtualIp, tls: info.tls }, "gm bridge listening");
        resolve();
      });
    });
  }

  info(): GmBridgeInfo {
    const address = this.server.address() as AddressInfo | null;
    const host = this.context.config.host;
    return {
      host: host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host,
      port: address?.port ?? this.spec.port,
      target: this.spec.target,
      targetPort: this.spec.targetPort,
      appKey: this.spec.appKey,
      virtualIp: formatIpv4(this.serviceIdentity?.virtualIp ?? 0),
      connections: this.open.size,
      tls: this.secureContext !== undefined,
    };
  }

  resolveTarget(): number {
    const literal = parseIpv4(this.spec.target);
    if (literal !== undefined) return this.context.directory.lookup(this.spec.appKey, literal) === undefined ? 0 : literal;
    return this.context.directory.resolve(this.spec.appKey, this.spec.target) ?? 0;
  }

  countIn(bytes: number): void {
    this.context.metrics.gmBridgeBytesIn.inc({ bridge: this.label }, bytes);
  }

  countOut(bytes: number): void {
    this.context.metrics.gmBridgeBytesOut.inc({ bridge: this.label }, bytes);
  }

  upgradeWebSocket(socket: Socket, head: Buffer, done: (ws: WebSocket) => void): void {
    this.upgrader.upgrade(socket, head, done);
  }

  private accept(socket: Socket): void {
    const { config, logger, metrics } = this.context;
    socket.on("error", () => socket.destroy());
    const address = socket.remoteAddress ?? "";
    const refuse = (reason: string): void => {
      metrics.gmBridgeRefused.inc({ bridge: this.label, reason });
      logger.info({ bridge: this.label, client: `${address}:${socket.remotePort ?? 0}`, reason }, "gm bridge: connection refused");
      socket.destroy();
    };
    if (!this.server.listening) return refuse("shutdown");
    if (this.open.size >= config.gmBridgeMaxConnections) return refuse("max-connections");
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= config.gmBridgeMaxPerAddress) return refuse("max-per-address");
    const port = this.takePort();
    if (port === 0) return refuse("max-connections");
    this.perAddress.set(address, fromAddress + 1);
    const connection = new BridgedConnection(this.context, this, socket, port);
    this.open.add(connection);
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    metrics.gmBridgeConnections.inc({ bridge: this.label });
    metrics.gmBridgeConnectionsTotal.inc({ bridge: this.label });
    connection.start();
  }

  ended(connection: BridgedConnection, cause: SessionCloseCause): void {
    if (!this.open.delete(connection)) return;
    this.portsInUse.delete(connection.localPort);
    const address = connection.remoteAddress;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
    const { metrics } = this.context;
    metrics.gmBridgeConnections.dec({ bridge: this.label });
    const reason = connection.endReason ?? "client-closed";
    if (REFUSED.has(reason)) metrics.gmBridgeRefused.inc({ bridge: this.label, reason });
    // Handshakes it started and a stream still open end as if a client had left.
    this.services.onSessionClose?.(connection, cause);
  }

  /** Ends every connection (server shutdown); sockets that do not close are cut after a grace period. */
  endAll(): void {
    for (const connection of [...this.open]) connection.finish("shutdown");
    const sockets = [...this.sockets];
    if (sockets.length === 0) return;
    const grace = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, 2500);
    grace.unref();
  }

  private takePort(): number {
    for (let tries = 0; tries < GM_BRIDGE_EPHEMERAL_PORTS; tries++) {
      const port = this.nextPort;
      this.nextPort = port + 1 > 65535 ? FIRST_EPHEMERAL_PORT : port + 1;
      if (!this.portsInUse.has(port)) {
        this.portsInUse.add(port);
        return port;
      }
    }
    return 0;
  }
}
