/**
 * How network_connect and its kin (api.ts) reach a destination (docs/NETWORK.md): a ws or wss
 * socket opens a real WebSocket; a tcp socket reaches a virtual host by address or name and,
 * when the virtual network has no such host, a real server through the server's outbound
 * GameMaker bridge (PROTOCOL.md §8.4) if the server allows that destination.
 */
import { MAX_NAME_BYTES as MAX_VIRTUAL_NAME_BYTES, formatIpv4, parseIpv4 } from "@gmnet/protocol";
import type { EngineContext } from "../runtime/context.js";
import { network_socket_ws, network_socket_wss } from "./constants.js";
import { NetworkError, type NetworkFault, fault } from "./errors.js";
import type { NetworkRuntime } from "./runtime.js";
import type { StreamSocket } from "./sockets/stream-socket.js";
import { LOOPBACK_IP } from "./vsockets/host-context.js";
import { platformWebSocket } from "./transport/websocket-like.js";
import { openWebSocket } from "./transport/websocket-stream.js";
import type { WireMode } from "./wire/connection.js";

/**
 * Starts connecting a stream socket (one that is not a server's, and neither connecting nor open)
 * to `target`:`portNumber`: 0 when it started (the outcome arrives as an event), -1 when it cannot.
 */
export function createStreamConnector(context: EngineContext, net: NetworkRuntime, websocketProtocols: () => string[]) {
  return (socket: StreamSocket, target: string, portNumber: number, mode: WireMode): number => {
    if (socket.type === network_socket_ws || socket.type === network_socket_wss) {
      const address = webSocketUrl(socket.type, target, portNumber);
      if (address === undefined) return -1;
      const WebSocket = net.options.WebSocket ?? platformWebSocket();
      socket.beginConnect(mode, address.host, address.port, (done) => {
        if (WebSocket === undefined) {
          queueMicrotask(() => done.failed(fault(NetworkError.WEBSOCKET, "this platform has no WebSocket; pass one to createEngine({ network: { WebSocket } })")));
          return () => {};
        }
        return openWebSocket({
          WebSocket,
          url: address.url,
          protocols: websocketProtocols(),
          timeoutMs: net.settings.connectTimeoutMs,
          clock: context.clock,
          opened: done.opened,
          failed: done.failed,
        });
      });
      return 0;
    }
    if (portNumber === 0) return -1;
    const localPort = net.host.takeTcpPort(0);
    if (localPort === 0) return -1;
    socket.localPort = localPort;
    socket.onRelease = () => net.host.releaseTcpPort(localPort);
    socket.beginConnect(mode, target, portNumber, (done) => {
      let cancel: (() => void) | undefined;
      let cancelled = false;
      // A real destination through the server's outbound GameMaker bridge (PROTOCOL.md §8.4):
      // tried only when the virtual network has no such host (docs/NETWORK.md "Real servers").
      const bridge = (notAllowed: NetworkFault, unsupported: NetworkFault): void => {
        if (cancelled) return;
        socket.remoteIp = target;
        cancel = net.host.connectBridge(target, portNumber, localPort, done, { notAllowed, unsupported });
      };
      const literal = parseIpv4(target);
      const reach = (ip: number): void => {
        socket.remoteIp = formatIpv4(ip);
        const failed = (problem: NetworkFault): void => {
          if (cancelled) return;
          // An address no engine holds may be a real host; the server answers OFFLINE again for the virtual network's own addresses.
          if (literal !== undefined && problem.code === NetworkError.OFFLINE && !net.host.isLocal(ip)) {
            return bridge(fault(NetworkError.REFUSED, `${target}:${portNumber} is neither a virtual host nor an allowed bridge destination (--gm-bridge-allow on the server)`), problem);
          }
          // 127.0.0.1 is this engine; only when nothing here listens on that port may it be the server's own loopback, if the operator listed it.
          if (literal === LOOPBACK_IP && problem.code === NetworkError.NOT_LISTENING && net.settings.signalingUrl !== undefined) {
            return net.whenOnline(() => bridge(problem, problem), () => done.failed(problem));
          }
          done.failed(problem);
        };
        cancel = net.host.connect(ip, portNumber, localPort, { opened: done.opened, failed });
      };
      const known = net.host.cachedAddress(target);
      if (known !== undefined && net.host.isLocal(known)) reach(known);
      else {
        net.whenOnline(() => {
          if (cancelled) return;
          if (known !== undefined) return reach(known);
          const unknown = `no host is called "${target}"`;
          const notAllowed = fault(NetworkError.UNKNOWN_HOST, `${unknown}: no engine claimed that name, and ${target}:${portNumber} is not an allowed bridge destination (--gm-bridge-allow on the server)`);
          // No virtual host name is longer than 63 characters: a longer one can only be a real host.
          if (new TextEncoder().encode(target).length > MAX_VIRTUAL_NAME_BYTES) return bridge(notAllowed, fault(NetworkError.UNKNOWN_HOST, unknown));
          net.host.resolve(target, (ip) => {
            if (cancelled) return;
            if (ip !== 0) return reach(ip);
            bridge(notAllowed, fault(NetworkError.UNKNOWN_HOST, unknown));
          });
        }, done.failed);
      }
      return () => {
        cancelled = true;
        cancel?.();
      };
    });
    return 0;
  };
}

/** The URL a ws/wss socket connects to: `url` as given (ws:// or wss:// optional), with `port` unless it is 0. */
export function webSocketUrl(type: number, url: string, port: number): { url: string; host: string; port: number } | undefined {
  const secure = type === network_socket_wss || /^wss:\/\//i.test(url);
  const bare = url.trim().replace(/^wss?:\/\//i, "");
  let parsed: URL;
  try {
    parsed = new URL(`${secure ? "wss" : "ws"}://${bare}`);
  } catch {
    return undefined;
  }
  if (port !== 0) parsed.port = String(port);
  const effectivePort = parsed.port === "" ? (secure ? 443 : 80) : Number(parsed.port);
  return { url: parsed.toString(), host: parsed.hostname, port: effectivePort };
}
