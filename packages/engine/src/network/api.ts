/**
 * network_*: GameMaker's networking functions over the virtual network (tcp, udp) and real
 * WebSockets (ws, wss). Misuse (arguments of the wrong kind or out of range) throws GmnetError
 * E_INVALID_ARGUMENT; a socket that cannot do what is asked (destroyed, not connected, wrong
 * kind) gives GameMaker's failure value (-1) and never throws; results and faults from the
 * network arrive as ev_async_web_networking events. docs/NETWORK.md has every table.
 * The settings (network_set_config, network_get_config) are in config-api.ts, app channels in
 * channels.ts, MCP tools in mcp-tools.ts, the way a connect reaches its destination in
 * stream-connect.ts; this file joins them into one set of functions.
 */
import { ErrorCode, GmnetError } from "../errors.js";
import { formatIpv4 } from "@gmnet/protocol";
import { type EngineContext, bufferRange, requireNumber, requireString } from "../runtime/context.js";
import { HandleTable } from "../runtime/handle-table.js";
import {
  NETWORK_SEND_FAILED,
  NETWORK_SEND_TOO_LARGE,
  network_send_text,
  network_socket_tcp,
  network_socket_udp,
  network_socket_ws,
  network_socket_wss,
  network_type_resolve,
} from "./constants.js";
import type { NetworkRuntime } from "./runtime.js";
import { type NetSocket, socketOfKind } from "./sockets/net-socket.js";
import { ServerSocket } from "./sockets/server-socket.js";
import { StreamSocket } from "./sockets/stream-socket.js";
import { MAX_DATAGRAM_SIZE, MAX_SEALED_DATAGRAM_SIZE, UdpSocket } from "./sockets/udp-socket.js";
import type { NetworkStats, NetworkTotals } from "./stats.js";
import { createChannelApi } from "./channels.js";
import { createConfigApi } from "./config-api.js";
import { createMcpToolApi } from "./mcp-tools.js";
import { createStreamConnector } from "./stream-connect.js";
import type { WireMode } from "./wire/connection.js";
import { encodeGmPacket } from "./wire/gm-wire.js";

/** Datagrams sent before the first connection to the signaling server that are kept for it. */
const MAX_HELD_DATAGRAMS = 256;

/** network_* over `net`, the engine's one network runtime (shared with master_*, see engine.ts). */
export function createNetworkApi(context: EngineContext, net: NetworkRuntime) {
  const sockets = new HandleTable<NetSocket>();
  let heldDatagrams = 0;
  net.addNeed(() => sockets.size > 0);
  const channels = createChannelApi(context, net);
  const mcpTools = createMcpToolApi(context, net);
  const config = createConfigApi(context, net, sockets);
  const connectStream = createStreamConnector(context, net, config.websocketProtocols);

  const socketType = (type: unknown, fn: string): number => {
    const value = requireNumber(type, "type", fn);
    if (value !== network_socket_tcp && value !== network_socket_udp && value !== network_socket_ws && value !== network_socket_wss) {
      throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: ${String(type)} is not a socket type (network_socket_tcp 0, _udp 1, _ws 2, _wss 3)`);
    }
    return value;
  };

  const portArg = (port: unknown, fn: string, min: number): number => {
    const value = requireNumber(port, "port", fn);
    if (!Number.isInteger(value) || value < min || value > 65535) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: port must be a whole number from ${min} to 65535, not ${value}`);
    return value;
  };

  /** The bytes [0, size) of a buffer, as network_send_* send them (from offset 0, not from seek). */
  const bufferBytes = (buffer: number, size: unknown, fn: string): Uint8Array => bufferRange(context, buffer, size, fn);

  const tooLarge = (size: number): boolean => size > net.settings.messageSizeLimit;
  /** The largest datagram: less the sealing's overhead while end-to-end encryption is on. */
  const datagramLimit = (): number => (net.e2e.current() === undefined ? MAX_DATAGRAM_SIZE : MAX_SEALED_DATAGRAM_SIZE);

  const createUdp = (type: number, port: number, isServer: boolean): number => {
    const chosen = port === 0 ? net.host.freeUdpPort() : port;
    const inUse = [...sockets.ids()].some((id) => {
      const socket = sockets.get(id);
      return socket instanceof UdpSocket && socket.port === chosen;
    });
    if (chosen === 0 || inUse) return -1;
    const id = sockets.addWith((id) => new UdpSocket(id, type, chosen, isServer, context, net));
    net.whenOnline(() => {}, () => {});
    return id;
  };

  const createServer = (type: number, port: number, maxClients: number, mode: WireMode): number => {
    if (type === network_socket_udp) return createUdp(type, port, true);
    // Browsers cannot accept WebSocket connections: virtual servers are network_socket_tcp. With
    // the `listen` option (Node), network_socket_ws servers take WebSockets on their real port, and
    // virtual TCP clients on the virtual IP as tcp servers do.
    const listen = net.listenOptions;
    if (type !== network_socket_tcp && !(type === network_socket_ws && listen !== undefined)) return -1;
    if (net.host.takeTcpPort(port) === 0) return -1;
    let server!: ServerSocket;
    const id = sockets.addWith((id) => (server = new ServerSocket(id, type, port, maxClients, mode, sockets, context, net)));
    net.host.listen(port, server);
    if (listen !== undefined) server.listenOnRealPort({ host: listen.host, port: listen.port?.(port, type) ?? port, WebSocketServer: listen.WebSocketServer });
    // A Node host for real clients only (no signaling server set) does not try to reach one.
    if (listen === undefined || net.settings.signalingUrl !== undefined) net.whenOnline(() => {}, () => {});
    return id;
  };

  const serverArgs = (type: unknown, port: unknown, maxClient: unknown, fn: string): [number, number, number] => {
    const max = requireNumber(maxClient, "max_client", fn);
    if (!Number.isInteger(max) || max < 1) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: max_client must be a whole number of at least 1, not ${max}`);
    return [socketType(type, fn), portArg(port, fn, 1), max];
  };

  const connect = (socketId: number, url: unknown, port: unknown, mode: WireMode, fn: string): number => {
    const target = requireString(url, "url", fn);
    const portNumber = portArg(port, fn, 0);
    const socket = sockets.get(requireNumber(socketId, "socket", fn));
    if (!(socket instanceof StreamSocket) || socket.server !== undefined || socket.state === "connecting" || socket.state === "open") return -1;
    return connectStream(socket, target, portNumber, mode);
  };

  const streamSend = (socketId: number, data: Uint8Array, packet: boolean, text: boolean): number => {
    const socket = sockets.get(socketId);
    if (!(socket instanceof StreamSocket)) return NETWORK_SEND_FAILED;
    if (tooLarge(data.length)) return NETWORK_SEND_TOO_LARGE;
    return socket.send(data, packet, text) ? data.length : NETWORK_SEND_FAILED;
  };

  /** Sends to a virtual address, resolving a name first when needed (datagrams to unknown names are dropped, as UDP's are). */
  const udpSend = (socketId: number, url: string, port: number, data: Uint8Array, payloadSize = data.length): number => {
    const socket = sockets.get(socketId);
    if (!(socket instanceof UdpSocket)) return NETWORK_SEND_FAILED;
    if (data.length > datagramLimit() || tooLarge(data.length)) return NETWORK_SEND_TOO_LARGE;
    const known = net.host.cachedAddress(url);
    if (known !== undefined && (net.online || net.host.isLocal(known))) return socket.send(known, port, data, payloadSize) ? data.length : NETWORK_SEND_FAILED;
    // Not connected yet (a socket made this step): hold a bounded number until WELCOME, instead
    // of losing the first datagrams of every game.
    if (!net.online) {
      if (heldDatagrams >= MAX_HELD_DATAGRAMS) return data.length;
      heldDatagrams++;
      const copy = data.slice();
      const release = (): void => void heldDatagrams--;
      net.whenOnline(() => {
        release();
        const ip = known ?? net.host.cachedAddress(url);
        if (ip !== undefined) socket.send(ip, port, copy, payloadSize);
        else net.host.resolve(url, (resolved) => void (resolved !== 0 && socket.send(resolved, port, copy, payloadSize)));
      }, release);
      return data.length;
    }
    const copy = data.slice();
    net.whenOnline(() => net.host.resolve(url, (ip) => void (ip !== 0 && socket.send(ip, port, copy, payloadSize))), () => {});
    return data.length;
  };

  const socketOf = <T extends NetSocket>(value: unknown, kind: new (...args: never[]) => T): T | undefined => socketOfKind(sockets, value, kind);

  return {
    ...channels.api,
    ...mcpTools.api,
    ...config.api,
    network_create_server(type: number, port: number, max_client: number): number {
      return createServer(...serverArgs(type, port, max_client, "network_create_server"), "gm");
    },

    network_create_server_raw(type: number, port: number, max_client: number): number {
      return createServer(...serverArgs(type, port, max_client, "network_create_server_raw"), "raw");
    },

    network_create_socket(type: number): number {
      const checked = socketType(type, "network_create_socket");
      if (checked === network_socket_udp) return createUdp(checked, 0, false);
      return sockets.addWith((id) => new StreamSocket(id, checked, context, net));
    },

    /** As network_create_socket; a UDP socket is bound to `port` (0 = any free port). A stream socket's port is chosen when it connects. */
    network_create_socket_ext(type: number, port: number): number {
      const checked = socketType(type, "network_create_socket_ext");
      const portNumber = portArg(port, "network_create_socket_ext", 0);
      if (checked === network_socket_udp) return createUdp(checked, portNumber, false);
      return sockets.addWith((id) => new StreamSocket(id, checked, context, net));
    },

    /** Browsers cannot block: like GameMaker with network_config_use_non_blocking_socket, returns 0 and reports through network_type_non_blocking_connect. */
    network_connect(socket: number, url: string, port: number): number {
      return connect(socket, url, port, "gm", "network_connect");
    },
    network_connect_async(socket: number, url: string, port: number): number {
      return connect(socket, url, port, "gm", "network_connect_async");
    },
    network_connect_raw(socket: number, url: string, port: number): number {
      return connect(socket, url, port, "raw", "network_connect_raw");
    },
    network_connect_raw_async(socket: number, url: string, port: number): number {
      return connect(socket, url, port, "raw", "network_connect_raw_async");
    },

    /** Sends bytes [0, size) of the buffer as one GameMaker packet. Returns size, -1 (not connected) or -2 (over the size limit). */
    network_send_packet(socket: number, buffer: number, size: number): number {
      return streamSend(socket, bufferBytes(buffer, size, "network_send_packet"), true, false);
    },

    /** Sends bytes [0, size) as they are; options network_send_text sends a text frame on WebSockets. */
    network_send_raw(socket: number, buffer: number, size: number, options?: number): number {
      const data = bufferBytes(buffer, size, "network_send_raw");
      const text = options !== undefined && (requireNumber(options, "options", "network_send_raw") & network_send_text) !== 0;
      return streamSend(socket, data, false, text);
    },

    /** Sends one GameMaker packet to `port` on every other engine of the app bound to it. */
    network_send_broadcast(socket: number, port: number, buffer: number, size: number): number {
      const data = bufferBytes(buffer, size, "network_send_broadcast");
      const portNumber = portArg(port, "network_send_broadcast", 1);
      const udp = socketOf(socket, UdpSocket);
      if (udp === undefined) return NETWORK_SEND_FAILED;
      if (data.length > datagramLimit() - 12 || tooLarge(data.length)) return NETWORK_SEND_TOO_LARGE;
      return udp.broadcast(portNumber, encodeGmPacket(data), data.length) ? data.length : NETWORK_SEND_FAILED;
    },

    network_send_udp(socket: number, url: string, port: number, buffer: number, size: number): number {
      const data = bufferBytes(buffer, size, "network_send_udp");
      const sent = udpSend(socket, requireString(url, "url", "network_send_udp"), portArg(port, "network_send_udp", 1), encodeGmPacket(data), data.length);
      return sent < 0 ? sent : data.length;
    },

    network_send_udp_raw(socket: number, url: string, port: number, buffer: number, size: number): number {
      const data = bufferBytes(buffer, size, "network_send_udp_raw");
      return udpSend(socket, requireString(url, "url", "network_send_udp_raw"), portArg(port, "network_send_udp_raw", 1), data);
    },

    /** Closes a socket or server; the other side gets network_type_disconnect. Unknown ids are ignored. */
    network_destroy(socket: number): void {
      if (typeof socket !== "number") return;
      const target = sockets.get(socket);
      if (target === undefined) return;
      sockets.delete(socket);
      target.destroy();
      if (sockets.size === 0) net.links.close();
    },

    /** A name's virtual IP from what is known now ("" if not known yet; network_resolve_async asks the server). */
    network_resolve(url: string): string {
      const name = requireString(url, "url", "network_resolve");
      const known = net.host.cachedAddress(name);
      if (known !== undefined) return formatIpv4(known);
      if (net.online) net.host.resolve(name, () => {});
      return "";
    },

    /** Asks the signaling server for a name's address; returns a request id, answered by a network_type_resolve event. */
    network_resolve_async(url: string): number {
      const name = requireString(url, "url", "network_resolve_async");
      const id = context.nextRequestId();
      const answer = (ip: number): void => net.emit({ type: network_type_resolve, id, url: name, ip: ip === 0 ? "" : formatIpv4(ip), succeeded: ip === 0 ? 0 : 1 });
      net.whenOnline(() => net.host.resolve(name, answer), () => answer(0));
      return id;
    },

    /** Read and write timeouts in ms (0 = none): no data for `read_timeout`, or unsent data after `write_timeout`, disconnects with E_NETWORK_TIMEOUT. */
    network_set_timeout(socket: number, read_timeout: number, write_timeout: number): number {
      const read = requireNumber(read_timeout, "read_timeout", "network_set_timeout");
      const write = requireNumber(write_timeout, "write_timeout", "network_set_timeout");
      if (read < 0 || write < 0) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "network_set_timeout: timeouts must be 0 or more milliseconds");
      const stream = socketOf(socket, StreamSocket);
      if (stream === undefined) return -1;
      stream.readTimeoutMs = read;
      stream.writeTimeoutMs = write;
      stream.armReadTimer();
      return 0;
    },

    /**
     * Traffic counters of one socket, or of the whole engine for -1 (then also the signaling
     * connection's). `rtt` is the WebRTC round trip for UDP sockets that talk peer to peer, and
     * the round trip to the signaling server otherwise; -1 while unknown. undefined for an unknown socket.
     */
    network_get_stats(socket: number): (NetworkStats & Partial<NetworkTotals>) | undefined {
      const serverRtt = net.signaling.rtt;
      if (socket === -1) {
        return {
          ...net.totals.snapshot(serverRtt),
          signaling_bytes_sent: net.signaling.bytesSent,
          signaling_bytes_received: net.signaling.bytesReceived,
          connected: net.online ? 1 : 0,
          // The session layer (PROTOCOL.md §14): drops survived, how long the last one took, what is kept for replay.
          resumes: net.signaling.resumes,
          last_resume_ms: net.signaling.lastResumeMs,
          suspended: net.signaling.suspended ? 1 : 0,
          replay_bytes: net.signaling.replayBytes,
          sockets: sockets.size,
          channels: channels.stats(),
          // End-to-end encryption: datagrams and channel messages dropped (docs/NETWORK.md "Encryption").
          decrypt_failures: net.e2e.decryptFailures,
          replays_dropped: net.e2e.replaysDropped,
        };
      }
      const target = typeof socket === "number" ? sockets.get(socket) : undefined;
      if (target === undefined) return undefined;
      if (target instanceof UdpSocket) {
        const p2p = target.lastPeer !== 0 ? net.links.state(target.lastPeer, target.reliable) === "open" : false;
        // getStats is asynchronous: this call reports the previous measurement and starts the next.
        if (p2p) void net.links.rtt(target.lastPeer).then((rtt) => (target.p2pRtt = rtt));
        return { ...target.stats.snapshot(p2p ? target.p2pRtt : serverRtt) };
      }
      if (target instanceof StreamSocket && (target.type === network_socket_ws || target.type === network_socket_wss)) return { ...target.stats.snapshot(undefined) };
      return { ...target.stats.snapshot(serverRtt) };
    },

    /** gmnet: closes every socket and the signaling connection (end of a test, a bot shutting down). */
    network_shutdown(): void {
      for (const id of [...sockets.ids()]) {
        const target = sockets.get(id);
        sockets.delete(id);
        target?.destroy();
      }
      net.shutdown();
    },
  };
}
