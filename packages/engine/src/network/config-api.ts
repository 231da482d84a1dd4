/**
 * network_set_config and network_get_config: GameMaker's settings plus gmnet's (docs/NETWORK.md
 * has the table). Apart from api.ts because the settings are one concern of their own (each
 * case validates one value and hands it to the runtime, a socket, the conditioner or the
 * encryption), and they are half of the network_* functions' lines. The WebSocket protocols a
 * ws/wss connect asks for are kept here and read by api.ts.
 */
import { APP_KEY_RULE, isValidAppKey } from "@gmnet/protocol";
import { ErrorCode, GmnetError } from "../errors.js";
import { type EngineContext, requireNumber, requireString } from "../runtime/context.js";
import type { HandleTable } from "../runtime/handle-table.js";
import {
  network_config_app_key,
  network_config_avoid_time_wait,
  network_config_connect_timeout,
  network_config_connected,
  network_config_disable_multicast,
  network_config_disable_reliable_udp,
  network_config_enable_multicast,
  network_config_enable_reliable_udp,
  network_config_enable_webrtc,
  network_config_encryption,
  network_config_encryption_key,
  network_config_hostname,
  network_config_ice_servers,
  network_config_message_size_limit,
  network_config_signaling_url,
  network_config_simulate_jitter,
  network_config_simulate_latency,
  network_config_simulate_loss,
  network_config_tick_rate,
  network_config_use_non_blocking_socket,
  network_config_virtual_ip,
  network_config_websocket_protocol,
  network_type_encryption,
  network_type_hostname,
} from "./constants.js";
import { NetworkError } from "./errors.js";
import type { NetworkRuntime } from "./runtime.js";
import { isIceServerList, parseIceServers } from "./udp/ice-servers.js";
import { type NetSocket, socketOfKind } from "./sockets/net-socket.js";
import { StreamSocket } from "./sockets/stream-socket.js";
import { UdpSocket } from "./sockets/udp-socket.js";

/** Largest message size limit that can be set: GameMaker's own default for created sockets. */
const MAX_MESSAGE_SIZE_LIMIT = 64 * 1024 * 1024;

/** The network_*_config functions over `net`; `sockets` are the network_* sockets (for the per-socket settings). */
export function createConfigApi(context: EngineContext, net: NetworkRuntime, sockets: HandleTable<NetSocket>) {
  let websocketProtocols: string[] = [];

  const socketOf = <T extends NetSocket>(value: unknown, kind: new (...args: never[]) => T): T | undefined => socketOfKind(sockets, value, kind);

  const configNumber = (value: unknown, name: string, min: number, max: number): number => {
    const number = requireNumber(value, name, "network_set_config");
    if (number < min || number > max) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_set_config: ${name} must be from ${min} to ${max}, not ${number}`);
    return number;
  };

  return {
    /** The protocols set with network_config_websocket_protocol, for the next ws/wss connect. */
    websocketProtocols: (): string[] => websocketProtocols,
    api: {
      /** GameMaker's settings plus gmnet's (docs/NETWORK.md). Returns 0, -1 for a socket setting on a socket that is not there, or the request id of a host name claim. */
      network_set_config(config: number, value: unknown, value2?: unknown): number {
        const s = net.settings;
        switch (requireNumber(config, "config", "network_set_config")) {
          case network_config_connect_timeout:
            s.connectTimeoutMs = configNumber(value, "connect timeout", 1, 600_000);
            return 0;
          case network_config_use_non_blocking_socket:
          case network_config_avoid_time_wait:
          case network_config_enable_multicast:
          case network_config_disable_multicast:
            // Connects never block in a browser; TIME_WAIT and multicast have no meaning on the virtual network.
            return 0;
          case network_config_enable_reliable_udp:
          case network_config_disable_reliable_udp: {
            const udp = socketOf(value, UdpSocket);
            if (udp === undefined) return -1;
            udp.reliable = config === network_config_enable_reliable_udp;
            return 0;
          }
          case network_config_websocket_protocol: {
            const protocols = typeof value === "string" ? value.split(",").map((p) => p.trim()).filter((p) => p !== "") : undefined;
            if (protocols === undefined) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "network_set_config: the WebSocket protocol must be a string (comma-separated for several)");
            websocketProtocols = protocols;
            return 0;
          }
          case network_config_message_size_limit: {
            const limit = configNumber(value2 ?? value, "message size limit", 1, MAX_MESSAGE_SIZE_LIMIT);
            if (value2 === undefined) {
              s.messageSizeLimit = limit;
              return 0;
            }
            const stream = socketOf(value, StreamSocket);
            if (stream === undefined) return -1;
            stream.messageSizeLimit = limit;
            return 0;
          }
          case network_config_signaling_url: {
            const url = requireString(value, "signaling url", "network_set_config");
            if (!/^wss?:\/\/./i.test(url)) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_set_config: the signaling URL must start with ws:// or wss://, not "${url}"`);
            s.signalingUrl = url;
            return 0;
          }
          case network_config_app_key: {
            const key = requireString(value, "app key", "network_set_config");
            if (!isValidAppKey(key)) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_set_config: the app key must be ${APP_KEY_RULE}`);
            s.appKey = key;
            // The app key is the encryption key's salt.
            net.e2e.appKeyChanged();
            return 0;
          }
          case network_config_tick_rate:
            s.tickRate = configNumber(value, "tick rate", 0, 1000);
            net.signaling.options.tickRate = s.tickRate;
            return 0;
          case network_config_ice_servers: {
            const list = typeof value === "string" ? parseIceServers(value) : isIceServerList(value) ? value : undefined;
            if (list === undefined && value !== undefined) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "network_set_config: ICE servers must be an RTCIceServer array (or its JSON), each with urls");
            s.iceServers = list;
            return 0;
          }
          case network_config_enable_webrtc:
            s.webrtc = Boolean(configNumber(Number(value), "enable webrtc", 0, 1));
            net.links.setEnabled(s.webrtc);
            return 0;
          case network_config_simulate_latency:
            net.conditioner.settings.latencyMs = configNumber(value, "latency", 0, 60_000);
            return 0;
          case network_config_simulate_jitter:
            net.conditioner.settings.jitterMs = configNumber(value, "jitter", 0, 60_000);
            return 0;
          case network_config_simulate_loss:
            net.conditioner.settings.loss = configNumber(value, "loss", 0, 1);
            return 0;
          case network_config_encryption: {
            const mode = configNumber(value, "encryption", 0, 2);
            if (!Number.isInteger(mode)) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_set_config: encryption is network_encryption_none 0, network_encryption_shared 1 or network_encryption_pair 2, not ${mode}`);
            if (mode !== 0 && !net.e2e.hasKey) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "network_set_config: set network_config_encryption_key before turning network_config_encryption on");
            net.e2e.setMode(mode);
            return 0;
          }
          case network_config_encryption_key: {
            const secret = requireString(value, "encryption key", "network_set_config");
            if ([...secret].length < 8) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "network_set_config: the encryption key must have at least 8 characters");
            const id = context.nextRequestId();
            net.e2e.setKey(secret).then(
              () => net.emit({ type: network_type_encryption, id, succeeded: 1 }),
              (error: unknown) => net.emit({ type: network_type_encryption, id, succeeded: 0, error: NetworkError.DECRYPT, message: `the encryption key could not be derived: ${error instanceof Error ? error.message : String(error)}` }),
            );
            return id;
          }
          case network_config_hostname: {
            const name = requireString(value, "host name", "network_set_config");
            const id = context.nextRequestId();
            const answer = (ok: boolean): void => net.emit({ type: network_type_hostname, id, url: name, ip: ok ? net.localAddress() : "", succeeded: ok ? 1 : 0 });
            net.whenOnline(() => net.host.claimHostname(name, answer), () => answer(false));
            return id;
          }
          default:
            throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_set_config: ${String(config)} is not a network_config_* setting`);
        }
      },

      /** Reads a setting (the same constants), or for a socket setting, `socket`'s value. */
      network_get_config(config: number, socket?: number): unknown {
        const s = net.settings;
        switch (requireNumber(config, "config", "network_get_config")) {
          case network_config_connect_timeout:
            return s.connectTimeoutMs;
          case network_config_use_non_blocking_socket:
            return 1;
          case network_config_enable_reliable_udp:
            return socketOf(socket, UdpSocket)?.reliable ? 1 : 0;
          case network_config_message_size_limit:
            return socket === undefined ? s.messageSizeLimit : (socketOf(socket, StreamSocket)?.messageSizeLimit ?? -1);
          case network_config_websocket_protocol:
            return websocketProtocols.join(",");
          case network_config_signaling_url:
            return s.signalingUrl ?? "";
          case network_config_app_key:
            return s.appKey;
          case network_config_tick_rate:
            return s.tickRate;
          case network_config_ice_servers:
            return s.iceServers;
          case network_config_enable_webrtc:
            return s.webrtc ? 1 : 0;
          case network_config_simulate_latency:
            return net.conditioner.settings.latencyMs;
          case network_config_simulate_jitter:
            return net.conditioner.settings.jitterMs;
          case network_config_simulate_loss:
            return net.conditioner.settings.loss;
          case network_config_hostname:
            return net.host.hostname ?? "";
          case network_config_virtual_ip:
            return net.localAddress();
          case network_config_connected:
            return net.online ? 1 : 0;
          case network_config_encryption:
            return net.e2e.mode;
          case network_config_encryption_key:
            // Never the secret itself: a mask that says whether one is set.
            return net.e2e.hasKey ? "********" : "";
          default:
            throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_get_config: ${String(config)} is not a network_config_* setting`);
        }
      }
    },
  };
}
