/**
 * Setting each configuration up afresh for a measurement (network.bench.ts): its engines, sockets,
 * connection, P2P link or outside client, ready to echo, and how to take it down again.
 */
import wrtc from "@roamhq/wrtc";
import { type AsyncLoad, type Engine, createEngine, createMemoryStorage } from "@gmnet/engine";
import type { GmnetServer } from "@gmnet/signaling-server";
import WebSocket from "ws";
import { type EchoPath, now } from "./echo-path.js";
import { EngineEchoClient, EventLoop, nextEvent } from "./engine-echo.js";
import { McpEchoClient } from "./mcp-echo-client.js";
import { NativeGmClient } from "./native-gm-client.js";
import { APP_KEY, BRIDGE_HOST, BRIDGE_PORT, type Config, MCP_TOOL, SETUP_TIMEOUT_MS, type ServerId, TCP_PORT, UDP_PORT_A, UDP_PORT_B } from "./options.js";
import { BareEchoClient, DataChannelEchoClient, startBareRelayServer } from "./reference-echoes.js";

export interface Setup {
  readonly path: EchoPath;
  close(): Promise<void>;
}

export interface Environment {
  bareUrl: string;
  /** Started on first use: it serves one pinger at a time. */
  bareRelay?: Promise<{ url: string; close(): Promise<void> }>;
  servers: Map<ServerId, GmnetServer>;
  engines: Engine[];
}

/** Stops A's loop and shuts both engines down. */
export async function closePair(env: Environment, loop: EventLoop, engines: readonly Engine[]): Promise<void> {
  await loop.stop();
  for (const gm of engines) {
    gm.network_shutdown();
    env.engines.splice(env.engines.indexOf(gm), 1);
  }
}

export function engineOn(env: Environment, serverId: ServerId): Engine {
  const server = env.servers.get(serverId);
  if (server === undefined) throw new Error(`no signaling server "${serverId}"`);
  const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: server.address().wsUrl, appKey: APP_KEY } });
  env.engines.push(gm);
  return gm;
}

export const isUp = (gm: Engine) => (load: AsyncLoad) => load.type === gm.network_type_up;

/** The sealed configurations' shared secret (any 8+ characters: the bench measures the sealing, not the key). */
export const SEAL_SECRET = "network-bench-secret";

/** Gives every engine the shared key (PBKDF2, once per engine, before the measurement) and turns encryption on. */
export async function seal(engines: readonly Engine[]): Promise<void> {
  for (const gm of engines) {
    const request = gm.network_set_config(gm.network_config_encryption_key, SEAL_SECRET);
    const derived = await nextEvent(gm, "the key derivation", (load) => load.type === gm.network_type_encryption && load.id === request);
    if (derived.succeeded !== 1) throw new Error(`no key: ${String(derived.message)}`);
    gm.network_set_config(gm.network_config_encryption, gm.network_encryption_shared);
  }
}

/** Engine A listens (network_create_server), B connects; A echoes every packet with network_send_packet. */
export async function tcpSetup(env: Environment, serverId: ServerId, sealed: boolean): Promise<Setup> {
  const a = engineOn(env, serverId);
  const b = engineOn(env, serverId);
  if (sealed) await seal([a, b]);
  if (a.network_create_server(a.network_socket_tcp, TCP_PORT, 4) < 0) throw new Error("network_create_server failed");
  const up = await nextEvent(a, "A's network_type_up", isUp(a));
  const socket = b.network_create_socket(b.network_socket_tcp);
  if (b.network_connect_async(socket, up.ip as string, TCP_PORT) !== 0) throw new Error("network_connect_async failed");
  const connected = await nextEvent(b, "B's network_type_non_blocking_connect", (load) => load.type === b.network_type_non_blocking_connect);
  if (connected.succeeded !== 1) throw new Error(`B could not connect: ${String(connected.error)} ${String(connected.message)}`);
  await nextEvent(a, "A's network_type_connect", (load) => load.type === a.network_type_connect);

  const client = new EngineEchoClient(b, (buffer, size) => b.network_send_packet(socket, buffer, size));
  const loop = new EventLoop(a, (load) => {
    if (load.type === a.network_type_data) a.network_send_packet(load.id as number, load.buffer as number, load.size as number);
    else if (load.type === a.network_type_disconnect || load.type === a.network_type_down) client.report(`echoing engine: ${String(load.error)} ${String(load.message ?? "")}`);
  });
  return { path: client, close: () => closePair(env, loop, [a, b]) };
}

/**
 * A listens (network_create_server) under a host name the server's GameMaker bridge points at;
 * B is a native GameMaker client on the bridge's real TCP port; A echoes every packet.
 */
export async function bridgeSetup(env: Environment): Promise<Setup> {
  const server = env.servers.get("bridge");
  if (server === undefined) throw new Error('no signaling server "bridge"');
  const a = engineOn(env, "bridge");
  if (a.network_create_server(a.network_socket_tcp, BRIDGE_PORT, 4) < 0) throw new Error("network_create_server failed");
  // The previous round's A may still hold the name for a moment while the server ends its session.
  const deadline = now() + SETUP_TIMEOUT_MS;
  for (;;) {
    const claim = a.network_set_config(a.network_config_hostname, BRIDGE_HOST);
    const claimed = await nextEvent(a, "A's host name", (load) => load.type === a.network_type_hostname && load.id === claim);
    if (claimed.succeeded === 1) break;
    if (now() > deadline) throw new Error(`A could not claim ${BRIDGE_HOST} within ${SETUP_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const bridge = server.gmBridges()[0]!;
  const client = await NativeGmClient.open(bridge.port);
  await nextEvent(a, "A's network_type_connect", (load) => load.type === a.network_type_connect);
  const loop = new EventLoop(a, (load) => {
    if (load.type === a.network_type_data) a.network_send_packet(load.id as number, load.buffer as number, load.size as number);
  });
  return {
    path: client,
    close: async () => {
      client.socket.destroy();
      await closePair(env, loop, [a]);
    },
  };
}

/**
 * A offers the tool `echo` (network_mcp_tool_register) and answers every call inside its
 * network_type_mcp_call event with the call's seq; B is an MCP client on the server's /mcp.
 */
export async function mcpSetup(env: Environment): Promise<Setup> {
  const server = env.servers.get("mcp");
  if (server === undefined) throw new Error('no signaling server "mcp"');
  const a = engineOn(env, "mcp");
  const schema = {
    type: "object",
    // pad bounded as a real tool's strings would be, well above the largest message (MAX_SIZE).
    properties: { seq: { type: "integer" }, pad: { type: "string", maxLength: 65536 } },
    required: ["seq", "pad"],
    additionalProperties: false,
  };
  // The previous round's A may still hold the name for a moment while the server ends its session.
  const deadline = now() + SETUP_TIMEOUT_MS;
  for (;;) {
    const request = a.network_mcp_tool_register(MCP_TOOL, "Sends the call's seq back as text (network benchmark).", schema);
    const answer = await nextEvent(a, "A's network_type_mcp_tool", (load) => load.type === a.network_type_mcp_tool && load.id === request);
    if (answer.succeeded === 1) break;
    if (answer.error !== "E_NETWORK_MCP_TOOL_TAKEN" || now() > deadline) throw new Error(`A could not offer ${MCP_TOOL}: ${String(answer.error)} ${String(answer.message ?? "")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const client = await McpEchoClient.open(server.address().url);
  const loop = new EventLoop(a, (load) => {
    if (load.type === a.network_type_mcp_call) {
      const seq = (load.arguments as { seq: number }).seq;
      const answered = a.network_mcp_tool_respond(load.call_id as number, String(seq));
      if (answered !== 0) client.report(`echoing engine: network_mcp_tool_respond returned ${answered} for call ${String(load.call_id)}`);
    } else if (load.type === a.network_type_mcp_call_ended || load.type === a.network_type_down) {
      client.report(`echoing engine: ${String(load.reason ?? "")} ${String(load.error)} ${String(load.message ?? "")}`);
    }
  });
  return {
    path: client,
    close: async () => {
      await client.close();
      await closePair(env, loop, [a]);
    },
  };
}

/** UDP sockets on A and B; A echoes every datagram to where it came from with network_send_udp. */
export async function udpSetup(env: Environment, serverId: ServerId, via: "p2p" | "relay", sealed: boolean): Promise<Setup> {
  const a = engineOn(env, serverId);
  const b = engineOn(env, serverId);
  if (sealed) await seal([a, b]);
  const socketA = a.network_create_socket_ext(a.network_socket_udp, UDP_PORT_A);
  const socketB = b.network_create_socket_ext(b.network_socket_udp, UDP_PORT_B);
  if (socketA < 0 || socketB < 0) throw new Error("network_create_socket_ext failed");
  const ipA = (await nextEvent(a, "A's network_type_up", isUp(a))).ip as string;
  await nextEvent(b, "B's network_type_up", isUp(b));
  if (via === "relay") {
    a.network_set_config(a.network_config_enable_webrtc, 0);
    b.network_set_config(b.network_config_enable_webrtc, 0);
  }

  const client = new EngineEchoClient(b, (buffer, size) => b.network_send_udp(socketB, ipA, UDP_PORT_A, buffer, size), via);
  let lastViaAtA: unknown;
  const loop = new EventLoop(a, (load) => {
    if (load.type === a.network_type_data) {
      lastViaAtA = load.via;
      if (load.via !== via) client.offPath++;
      a.network_send_udp(socketA, load.ip as string, load.port as number, load.buffer as number, load.size as number);
    } else if (load.type === a.network_type_down) client.report(`echoing engine: ${String(load.error)} ${String(load.message ?? "")}`);
  });

  // The first datagrams go through the relay while the DataChannel opens: send until both ends
  // receive over the path to be measured (datagrams lost meanwhile are simply not answered).
  const deadline = now() + SETUP_TIMEOUT_MS;
  let seq = 0x40000000;
  while (!(client.lastVia === via && lastViaAtA === via)) {
    if (now() > deadline) throw new Error(`no echo via ${via} within ${SETUP_TIMEOUT_MS} ms (last: B ${String(client.lastVia)}, A ${String(lastViaAtA)})`);
    client.send(seq++, 64);
    await client.receive(20, () => {});
  }
  return { path: client, close: () => closePair(env, loop, [a, b]) };
}

export async function setup(env: Environment, config: Config): Promise<Setup> {
  if (config.kind === "bare") {
    const client = await BareEchoClient.open(env.bareUrl);
    return { path: client, close: async () => client.ws.close() };
  }
  if (config.kind === "bare-relay") {
    env.bareRelay ??= startBareRelayServer();
    const client = await BareEchoClient.open((await env.bareRelay).url);
    return { path: client, close: async () => client.ws.close() };
  }
  if (config.kind === "dc") {
    const client = await DataChannelEchoClient.open();
    return { path: client, close: async () => client.close() };
  }
  if (config.kind === "tcp") return tcpSetup(env, config.server!, config.sealed === true);
  if (config.kind === "bridge") return bridgeSetup(env);
  if (config.kind === "mcp") return mcpSetup(env);
  return udpSetup(env, config.server!, config.via!, config.sealed === true);
}
