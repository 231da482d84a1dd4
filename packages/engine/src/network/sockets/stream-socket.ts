/**
 * A connected (or connecting) stream socket: a client made by network_create_socket and
 * network_connect*, or a server's accepted client. Its transport is a virtual TCP stream, a
 * loopback pair or a real WebSocket; its conversation a SocketConnection in GameMaker or raw mode.
 *
 * Events: the client gets network_type_non_blocking_connect (succeeded 1 or 0 with an error) and,
 * unlike GameMaker's HTML5 runner, network_type_disconnect when the other side goes away. An
 * accepted socket reports through its server: connect, data (id = this socket, server = the
 * server's id) and disconnect.
 */
import type { EngineContext } from "../../runtime/context.js";
import { network_type_disconnect, network_type_non_blocking_connect } from "../constants.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import type { NetworkRuntime } from "../runtime.js";
import { TrafficStats } from "../stats.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { SocketConnection, type WireMode } from "../wire/connection.js";
import { emitData, faultKeys } from "./socket-events.js";
import type { ServerSocket } from "./server-socket.js";

export type StreamState = "idle" | "connecting" | "open" | "closed";

/** What a client may send while its connect is under way: the default message size limit (1 MiB) four times over. */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class StreamSocket {
  readonly kind = "stream";
  state: StreamState = "idle";
  mode: WireMode = "gm";
  localPort = 0;
  remoteIp = "";
  remotePort = 0;
  readTimeoutMs = 0;
  writeTimeoutMs = 0;
  private messageLimit: number;
  /** Round trip measured while connecting (virtual sockets), in ms. */
  rtt: number | undefined;
  readonly stats = new TrafficStats();
  private connection: SocketConnection | undefined;
  private cancelConnect: (() => void) | undefined;
  private connectTimer: unknown;
  private readTimer: unknown;
  private writeTimer: unknown;
  /**
   * What the script sent while its connect was under way (GameMaker scripts send on the line after
   * network_connect): delivered in order once connected, or counted as dropped if the connect fails.
   */
  private pending: Array<{ data: Uint8Array; packet: boolean; text: boolean }> = [];
  private pendingBytes = 0;
  /** Releases what the socket holds elsewhere (its TCP port); set by whoever opened it. */
  onRelease: () => void = () => {};

  constructor(
    readonly id: number,
    readonly type: number,
    readonly context: EngineContext,
    readonly net: NetworkRuntime,
    readonly server?: ServerSocket,
  ) {
    this.messageLimit = net.settings.messageSizeLimit;
  }

  /** network_config_message_size_limit for this socket: the largest message it accepts. */
  get messageSizeLimit(): number {
    return this.messageLimit;
  }

  set messageSizeLimit(bytes: number) {
    this.messageLimit = bytes;
    this.connection?.setMessageLimit(bytes);
  }

  // ------------------------------------------------------------ client side

  /** Starts a connect; `open` is called with a transport opener that must call back exactly once. */
  beginConnect(mode: WireMode, ip: string, port: number, open: (done: { opened(stream: ByteStream): void; failed(problem: NetworkFault): void }) => () => void): void {
    this.mode = mode;
    this.state = "connecting";
    this.remoteIp = ip;
    this.remotePort = port;
    const timeoutMs = this.net.settings.connectTimeoutMs;
    this.connectTimer = this.context.clock.setTimeout(() => this.connectFailed(fault(NetworkError.TIMEOUT, `no connection to ${ip}:${port} within ${timeoutMs} ms`)), timeoutMs);
    this.cancelConnect = open({
      opened: (stream) => {
        if (this.state !== "connecting") return stream.close();
        this.attach(stream, "client");
      },
      failed: (problem) => this.connectFailed(problem),
    });
  }

  private connectFailed(problem: NetworkFault): void {
    if (this.state !== "connecting") return;
    const dropped = this.pendingBytes;
    this.cancelConnect?.();
    this.finish();
    this.net.emit({ type: network_type_non_blocking_connect, id: this.id, socket: this.id, ip: this.remoteIp, port: this.remotePort, succeeded: 0, bytes_dropped: dropped, ...faultKeys(problem) });
  }

  // ------------------------------------------------------------ both sides

  /** Takes over an open transport; the connection is established after the handshake (at once when raw). */
  attach(stream: ByteStream, role: "client" | "server"): void {
    this.connection = new SocketConnection(stream, {
      mode: this.mode,
      role,
      maxMessageSize: this.messageLimit,
      events: {
        established: () => this.established(),
        message: (data, text) => this.received(data, text),
        closed: (problem) => this.lost(problem),
      },
    });
    if (role === "server") {
      // A client that never finishes the handshake must not hold one of max_client's places.
      this.state = "connecting";
      const timeoutMs = this.net.settings.connectTimeoutMs;
      this.connectTimer = this.context.clock.setTimeout(() => this.lost(fault(NetworkError.TIMEOUT, `no handshake within ${timeoutMs} ms`)), timeoutMs);
    }
    this.connection.start();
  }

  private established(): void {
    this.clearConnectTimer();
    this.cancelConnect = undefined;
    this.state = "open";
    this.armReadTimer();
    if (this.server !== undefined) return this.server.clientEstablished(this);
    this.net.emit({ type: network_type_non_blocking_connect, id: this.id, socket: this.id, ip: this.remoteIp, port: this.remotePort, succeeded: 1 });
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const { data, packet, text } of pending) if (this.state === "open") this.send(data, packet, text);
  }

  private received(data: Uint8Array, text: boolean): void {
    if (this.state !== "open") return;
    this.stats.received(data.length);
    this.net.totals.received(data.length);
    this.armReadTimer();
    const keys: Record<string, unknown> = { id: this.id, ip: this.remoteIp, port: this.remotePort };
    if (this.server !== undefined) keys.server = this.server.id;
    emitData(this, keys, data, text);
  }

  /** The far side, the network or a limit ended the connection. */
  private lost(problem: NetworkFault): void {
    const wasOpen = this.state === "open";
    if (this.state === "connecting" && this.server === undefined) return this.connectFailed(problem);
    if (this.state === "closed") return;
    this.finish();
    if (this.server !== undefined) return this.server.clientLost(this, wasOpen, problem);
    this.net.emit({ type: network_type_disconnect, id: this.id, socket: this.id, ip: this.remoteIp, port: this.remotePort, ...faultKeys(problem) });
  }

  /**
   * network_send_packet / network_send_raw. While this client's connect is under way the data is
   * queued (up to MAX_PENDING_BYTES) and sent once connected. Returns false when it cannot be sent.
   */
  send(data: Uint8Array, packet: boolean, text: boolean): boolean {
    const connection = this.connection;
    if (this.state === "connecting" && this.server === undefined) {
      if (this.pendingBytes + data.length > MAX_PENDING_BYTES) return false;
      this.pending.push({ data: data.slice(), packet, text });
      this.pendingBytes += data.length;
      return true;
    }
    if (this.state !== "open" || connection === undefined) return false;
    this.stats.sent(data.length);
    this.net.totals.sent(data.length);
    const copy = this.net.conditioner.active ? data.slice() : data;
    this.net.conditioner.stream(this, () => {
      if (packet) connection.sendPacket(copy);
      else connection.sendRaw(copy, text);
      this.armWriteTimer();
    });
    return true;
  }

  /** network_destroy: closes without an event on this side; the other side gets its disconnect. */
  destroy(): void {
    if (this.state === "closed") return;
    this.cancelConnect?.();
    this.finish();
  }

  private finish(): void {
    this.state = "closed";
    this.pending = [];
    this.pendingBytes = 0;
    this.clearConnectTimer();
    for (const timer of [this.readTimer, this.writeTimer]) if (timer !== undefined) this.context.clock.clearTimeout(timer);
    this.readTimer = this.writeTimer = undefined;
    this.cancelConnect = undefined;
    this.connection?.close();
    this.connection = undefined;
    this.onRelease();
    this.onRelease = () => {};
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) this.context.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  // ------------------------------------------------------------ network_set_timeout

  /** No data for readTimeoutMs ends the connection (with a disconnect event carrying E_NETWORK_TIMEOUT). */
  armReadTimer(): void {
    if (this.readTimer !== undefined) this.context.clock.clearTimeout(this.readTimer);
    this.readTimer = undefined;
    if (this.readTimeoutMs <= 0 || this.state !== "open") return;
    this.readTimer = this.context.clock.setTimeout(() => this.lost(fault(NetworkError.TIMEOUT, `nothing received for ${this.readTimeoutMs} ms`)), this.readTimeoutMs);
  }

  /** Data still unsent writeTimeoutMs after a send ends the connection the same way. */
  private armWriteTimer(): void {
    if (this.writeTimeoutMs <= 0 || this.writeTimer !== undefined || (this.connection?.bufferedAmount ?? 0) === 0) return;
    this.writeTimer = this.context.clock.setTimeout(() => {
      this.writeTimer = undefined;
      if ((this.connection?.bufferedAmount ?? 0) > 0) this.lost(fault(NetworkError.TIMEOUT, `data could not be sent within ${this.writeTimeoutMs} ms`));
    }, this.writeTimeoutMs);
  }
}
