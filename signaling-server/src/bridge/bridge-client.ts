/**
 * The client's side of a bridged connection (bridged-connection.ts): the accepted socket, what
 * kind of client is on it, the tab's bytes held until that is known, and its write backlog.
 *
 * The client is a plain TCP one (a native export) or a WebSocket one (an HTML5 export), told apart
 * by its first bytes (ws-upgrade.ts: an HTTP GET asking for `Upgrade: websocket`). Until they
 * tell, the tab's bytes are held; when the tab speaks first (a GameMaker server greets first and
 * a native client waits for it), they are held at most SNIFF_GRACE_MS after the accept, and a
 * client still silent then is plain TCP. A WebSocket client gets the tab's bytes cut into whole
 * GameMaker handshake steps and packets (gm-framer.ts), one per message.
 *
 * TLS: when the server has a certificate (--tls-cert/--tls-key), a client whose first bytes are a
 * TLS ClientHello gets a server-side TLS socket with that certificate, within
 * gmBridgeConnectTimeoutMs, and its decrypted bytes are read as above (`wss://`, or TLS TCP); the
 * sniff grace then counts from the end of the TLS handshake. Without a certificate a ClientHello
 * is just bytes, passed to the tab like any plain TCP client's.
 */
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import type { ServerContext } from "../server-context.js";
import type { BridgeHost } from "./bridged-connection.js";
import { type ClientLink, type ClientLinkEvents, TcpLink } from "./client-link.js";
import { type BridgeEndReason, wsClose } from "./end-reason.js";
import { GmFramerError } from "./gm-framer.js";
import { WsLink } from "./ws-link.js";
import { looksLikeTls, sniffClient } from "./ws-upgrade.js";

/**
 * When the tab speaks before the client said anything, how long after the accept its bytes wait
 * for the client's first bytes (a WebSocket client sends its request at once; a native GameMaker
 * client waits for the greeting). A client still silent then is plain TCP.
 */
export const SNIFF_GRACE_MS = 100;

/** What the client side tells its connection, and asks of it. */
export interface BridgeClientOwner {
  readonly closed: boolean;
  /** Client → tab bytes. */
  clientData(chunk: Buffer): void;
  /** Ends the whole connection (once). */
  finish(reason: BridgeEndReason): void;
}

export class BridgeClient {
  private slowTimer: unknown;
  private sniffTimer: unknown;
  private tlsTimer: unknown;
  /** The client's socket: the accepted one, or the TLS socket over it once a ClientHello came. */
  private socket: Socket;
  /** Whether the client talks TLS; `secured` once its handshake finished. */
  private talksTls = false;
  private secured = false;
  /** The listeners watchSocket() put on the accepted socket, taken off when a TLS socket wraps it. */
  private detachRaw: (() => void) | undefined;
  /** The client's transport, once its first bytes (or its silence) told. */
  private link: ClientLink | undefined;
  /** The client's first bytes, while they do not tell yet. */
  private sniffed: Buffer = Buffer.alloc(0);
  private sniffing = true;
  /** True once SNIFF_GRACE_MS passed since the accept. */
  private graceOver = false;
  /** Tab → client bytes held while the transport is not known. */
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  /** Paused while the client's data waits (early bytes, rate limit, the tab's backlog). */
  private paused = false;

  constructor(
    private readonly context: ServerContext,
    private readonly bridge: BridgeHost,
    socket: Socket,
    private readonly owner: BridgeClientOwner,
    /** The accepted socket's address (a TLS socket over it may not tell it). */
    private readonly remoteAddress: string,
    /** The ephemeral virtual port the tab sees this connection come from (for the logs). */
    private readonly localPort: number,
  ) {
    this.socket = socket;
  }

  /** Starts reading the accepted socket's first bytes. */
  watchSocket(): void {
    this.socket.setNoDelay(true);
    this.detachRaw = this.watch(this.socket);
  }

  /** Reads the first bytes of `socket` and ends the connection with it; returns a function that takes those listeners off. */
  private watch(socket: Socket): () => void {
    const idle = this.context.config.gmBridgeIdleTimeoutMs;
    const sniff = (chunk: Buffer): void => this.onFirstBytes(chunk, sniff);
    const ended = (): void => this.owner.finish("client-closed");
    const failed = (): void => this.owner.finish("client-error");
    const timedOut = (): void => this.owner.finish("idle");
    socket.on("data", sniff);
    socket.on("end", ended);
    socket.on("error", failed);
    socket.on("close", ended);
    if (idle > 0) {
      socket.setTimeout(idle);
      socket.on("timeout", timedOut);
    }
    return () => {
      socket.off("data", sniff);
      socket.off("end", ended);
      socket.off("error", failed);
      socket.off("close", ended);
      socket.off("timeout", timedOut);
      if (idle > 0) socket.setTimeout(0);
    };
  }

  /** The tab's bytes wait SNIFF_GRACE_MS for the client's first bytes; a client still silent then is plain TCP. */
  startGrace(): void {
    const { clock } = this.context;
    if (this.sniffTimer !== undefined) clock.clearTimeout(this.sniffTimer);
    this.graceOver = false;
    this.sniffTimer = clock.setTimeout(() => {
      this.sniffTimer = undefined;
      this.graceOver = true;
      if (this.sniffing && this.sniffed.length === 0 && this.heldBytes > 0) this.useLink(new TcpLink(this.socket, this.linkEvents));
    }, SNIFF_GRACE_MS);
  }

  /**
   * A ClientHello came: the accepted socket (its first bytes put back) goes under a server-side
   * TLS socket, and once the handshake is done its decrypted bytes are sniffed again. Until then
   * the tab's bytes are held and no grace runs.
   */
  private startTls(first: Buffer, secureContext: SecureContext): void {
    const { clock, config, logger } = this.context;
    const raw = this.socket;
    this.talksTls = true;
    raw.pause();
    raw.unshift(first);
    this.detachRaw?.();
    this.detachRaw = undefined;
    if (this.sniffTimer !== undefined) clock.clearTimeout(this.sniffTimer);
    this.sniffTimer = undefined;
    this.graceOver = false;
    const secure = new TLSSocket(raw, { isServer: true, secureContext });
    this.socket = secure;
    const failed = (why: string): void => {
      if (this.owner.closed) return;
      logger.info({ bridge: this.bridge.label, client: this.label, reason: why }, "gm bridge: TLS handshake failed");
      this.owner.finish(why === "timeout" ? "tls-timeout" : "tls-error");
    };
    const onError = (error: Error & { code?: string }): void => failed(error.code ?? error.message);
    const onClose = (): void => failed("closed during the handshake");
    secure.on("error", onError);
    secure.on("close", onClose);
    this.tlsTimer = clock.setTimeout(() => failed("timeout"), config.gmBridgeConnectTimeoutMs);
    secure.once("secure", () => {
      clock.clearTimeout(this.tlsTimer);
      this.tlsTimer = undefined;
      // Closed meanwhile: the handshake listeners stay (they ignore a closed connection) to take the socket's errors.
      if (this.owner.closed) return;
      secure.off("error", onError);
      secure.off("close", onClose);
      this.secured = true;
      secure.setNoDelay(true);
      this.watch(secure);
      if (this.paused) secure.pause();
      logger.debug({ bridge: this.bridge.label, client: this.label, protocol: secure.getProtocol() }, "gm bridge: TLS handshake done");
      this.startGrace();
    });
  }

  private readonly linkEvents: ClientLinkEvents = {
    data: (chunk) => this.owner.clientData(chunk),
    end: (reason) => this.owner.finish(reason),
  };

  /** The client's first bytes, until they tell a plain TCP client from a WebSocket one. */
  private onFirstBytes(chunk: Buffer, listener: (chunk: Buffer) => void): void {
    if (this.owner.closed || !this.sniffing) return;
    this.sniffed = this.sniffed.length === 0 ? chunk : Buffer.concat([this.sniffed, chunk]);
    // TLS once, and only with a certificate: otherwise (or TLS inside TLS) a ClientHello is bytes like any others.
    const secureContext = this.talksTls ? undefined : this.bridge.secureContext;
    const kind = sniffClient(this.sniffed, secureContext !== undefined);
    if (kind === "more") return;
    const { socket } = this;
    socket.off("data", listener);
    const first = this.sniffed;
    this.sniffed = Buffer.alloc(0);
    if (kind === "tls" && secureContext !== undefined) return this.startTls(first, secureContext);
    if (kind === "tcp") {
      if (!this.talksTls && secureContext === undefined && looksLikeTls(first)) {
        this.context.logger.info({ bridge: this.bridge.label, client: this.label }, "gm bridge: a TLS ClientHello, but the server has no TLS certificate: passed to the tab as plain TCP bytes");
      }
      this.useLink(new TcpLink(socket, this.linkEvents));
      return this.owner.clientData(first);
    }
    this.sniffing = false;
    socket.pause();
    this.bridge.upgradeWebSocket(socket, first, (ws) => {
      if (this.owner.closed) return ws.terminate();
      // ws turns the socket's timeout off; the bridge's idle timeout still holds.
      const idle = this.context.config.gmBridgeIdleTimeoutMs;
      if (idle > 0) socket.setTimeout(idle);
      this.useLink(new WsLink(ws, this.linkEvents, this.context.config.maxQueuedBytes));
    });
  }

  /** The transport is known: the tab's bytes held meanwhile go out, and the client's data flows. */
  private useLink(link: ClientLink): void {
    this.sniffing = false;
    this.link = link;
    if (this.sniffTimer !== undefined) this.context.clock.clearTimeout(this.sniffTimer);
    this.sniffTimer = undefined;
    this.context.logger.debug({ bridge: this.bridge.label, client: this.label, kind: link.kind, tls: this.talksTls }, "gm bridge: client transport");
    const held = this.held.splice(0);
    this.heldBytes = 0;
    for (const chunk of held) {
      if (this.owner.closed) return;
      this.toClient(chunk);
    }
    if (this.paused) link.pause();
  }

  /** Whether the client talks TLS. */
  get tls(): boolean {
    return this.talksTls;
  }

  /** address:port of the client, for the logs. */
  get label(): string {
    return `${this.remoteAddress}:${this.socket.remotePort ?? 0}`;
  }

  /** The client's transport for the logs: "tcp", "websocket", or "unknown" while its first bytes do not tell. */
  get kind(): string {
    return this.link?.kind ?? (this.sniffing ? "unknown" : "websocket");
  }

  pause(): void {
    this.paused = true;
    if (this.link !== undefined) this.link.pause();
    else if (this.sniffing) this.socket.pause();
  }

  resume(): void {
    this.paused = false;
    if (this.link !== undefined) this.link.resume();
    else if (this.sniffing) this.socket.resume();
  }

  /** Tab → client: written, or held while the client's transport is not known. */
  write(data: Uint8Array): void {
    if (this.link === undefined) {
      // Not known yet whether the client is a WebSocket: held (a copy, as the payload may be a view of the tab's message).
      this.held.push(Buffer.from(data));
      this.heldBytes += data.length;
      if (this.heldBytes > 4 * this.context.config.maxQueuedBytes) return this.owner.finish("slow-consumer");
      if (this.sniffing && this.graceOver && this.sniffed.length === 0) this.useLink(new TcpLink(this.socket, this.linkEvents));
      return;
    }
    this.toClient(data);
  }

  private toClient(data: Uint8Array): void {
    const link = this.link!;
    this.bridge.countOut(data.length);
    try {
      link.write(data);
    } catch (error) {
      if (!(error instanceof GmFramerError)) throw error;
      this.context.logger.warn({ bridge: this.bridge.label, client: this.label, port: this.localPort, reason: error.message }, "gm bridge: malformed GameMaker stream from the tab");
      return this.owner.finish("malformed");
    }
    this.watchWriteBacklog();
  }

  /**
   * The client reads slower than the tab sends: as for a WebSocket client, a burst may pass
   * maxQueuedBytes for slowConsumerMs, and four times it never.
   */
  private watchWriteBacklog(): void {
    const { config, clock } = this.context;
    const link = this.link;
    if (link === undefined) return;
    const backlog = link.backlog;
    if (backlog <= config.maxQueuedBytes) return;
    if (backlog > 4 * config.maxQueuedBytes) return this.owner.finish("slow-consumer");
    if (this.slowTimer !== undefined) return;
    this.slowTimer = clock.setTimeout(() => {
      this.slowTimer = undefined;
      if (!this.owner.closed && link.backlog > config.maxQueuedBytes) this.owner.finish("slow-consumer");
    }, config.slowConsumerMs);
  }

  /** Stops the timers, drops what is held, and ends or cuts the client's connection as `reason` says. */
  close(reason: BridgeEndReason): void {
    const { clock } = this.context;
    for (const timer of [this.slowTimer, this.sniffTimer, this.tlsTimer]) if (timer !== undefined) clock.clearTimeout(timer);
    this.held.length = 0;
    this.closeClient(reason);
  }

  private closeClient(reason: BridgeEndReason): void {
    const cut = reason === "client-error" || reason === "slow-consumer" || reason === "tls-error" || reason === "tls-timeout";
    const link = this.link;
    if (link === undefined) {
      // Still sniffing, in the TLS handshake, or in the WebSocket handshake (the socket is the http parser's then).
      if (cut || !this.sniffing || (this.talksTls && !this.secured)) this.socket.destroy();
      else this.socket.end();
      return;
    }
    if (cut) return link.destroy();
    const [code, text] = wsClose(reason);
    link.end(code, text);
  }
}
