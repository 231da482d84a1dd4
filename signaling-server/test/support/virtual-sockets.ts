/**
 * Shared setup for the virtual-socket tests: a real server per test file, clients that are
 * closed after each test, typed send/receive on Channel.VSOCKET, the full connect handshake,
 * and barriers that make "nothing arrived" assertions exact instead of timing-based.
 */
import {
  ArbitraryData,
  Channel,
  ControlType,
  ErrorMessage,
  HostnameClaim,
  HostnameResult,
  type MessageCodec,
  Priority,
  ResolveRequest,
  ResolveResponse,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
  type WelcomeMessage,
} from "@gmnet/protocol";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { GmnetServer, ServerOptions } from "../../src/index.js";
import { startServer } from "./harness.js";
import { type ClientOptions, ProtocolClient } from "./protocol-client.js";

export type Client = ProtocolClient & { welcome: WelcomeMessage };

export interface TestServer {
  readonly server: GmnetServer;
  /** A connected, welcomed client, closed after the current test. */
  client(appKey?: string, options?: ClientOptions): Promise<Client>;
  /** Two such clients of one app key, connected one after the other. */
  pair(appKey?: string): Promise<[Client, Client]>;
  /** A client on a resumable session (HELLO + RESUME ""), closed after the current test. */
  resumable(appKey?: string, options?: ClientOptions): Promise<Client>;
  /** A new connection asking to resume `previous`'s session (see ProtocolClient.resume), closed after the current test. */
  resume(previous: ProtocolClient, options?: ClientOptions & { retransmit?: boolean }): Promise<Client>;
}

/** Starts a server for the enclosing file or describe block (with config overrides). */
export function useServer(options: ServerOptions = {}): TestServer {
  let server: GmnetServer | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    server = await startServer(options);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(() => server?.close());
  return {
    get server() {
      if (server === undefined) throw new Error("the server starts in beforeAll");
      return server;
    },
    async client(appKey = "test-app", options: ClientOptions = {}) {
      if (server === undefined) throw new Error("the server starts in beforeAll");
      const client = await ProtocolClient.connect(server.address().wsUrl, { ...options, appKey });
      clients.push(client);
      return client;
    },
    async pair(appKey = "test-app") {
      const first = await this.client(appKey);
      return [first, await this.client(appKey)];
    },
    async resumable(appKey = "test-app", options: ClientOptions = {}) {
      if (server === undefined) throw new Error("the server starts in beforeAll");
      const client = await ProtocolClient.resumable(server.address().wsUrl, { ...options, appKey });
      clients.push(client);
      return client;
    },
    async resume(previous, options = {}) {
      if (server === undefined) throw new Error("the server starts in beforeAll");
      const client = await ProtocolClient.resume(server.address().wsUrl, previous, options);
      clients.push(client);
      return client;
    },
  };
}

let lastReqId = 100;
/** Request ids unique across a test file, so a reply can never match the wrong request. */
export const newReqId = (): number => ++lastReqId;

export function sendV<T>(client: ProtocolClient, type: number, codec: MessageCodec<T>, value: T): void {
  client.send(Channel.VSOCKET, type, codec.encode(value));
}

export function nextV<T>(client: ProtocolClient, type: number, codec: MessageCodec<T>): Promise<T> {
  return client.nextMessage(Channel.VSOCKET, type, codec);
}

/** Claims a host name for `client` (VSOCKET HOSTNAME_CLAIM); true when it got it. */
export async function claim(client: ProtocolClient, name: string): Promise<boolean> {
  const reqId = newReqId();
  sendV(client, VSocketType.HOSTNAME_CLAIM, HostnameClaim, { reqId, name });
  const result = await nextV(client, VSocketType.HOSTNAME_RESULT, HostnameResult);
  expect(result.reqId).toBe(reqId);
  return result.ok;
}

/** ARBITRARY_DATA on the stream `connId`: packet `seq` with `data`. */
export function sendData(from: ProtocolClient, connId: number, seq: number, data: Uint8Array): void {
  sendV(from, VSocketType.ARBITRARY_DATA, ArbitraryData, { connId, seq, data });
}

/** A RESOLVE round trip: the address `name` stands for (0 for none); the answer must come at High priority. */
export async function resolve(client: ProtocolClient, name: string): Promise<number> {
  const reqId = newReqId();
  sendV(client, VSocketType.RESOLVE_REQUEST, ResolveRequest, { reqId, name });
  const frame = await client.next(Channel.VSOCKET, VSocketType.RESOLVE_RESPONSE);
  expect(frame.priority).toBe(Priority.HIGH);
  const answer = ResolveResponse.decode(frame.payload);
  expect(answer.reqId).toBe(reqId);
  return answer.ip;
}

/** ERROR frames received so far and not yet taken, decoded (they stay in `frames`). */
export function errorsOf(client: ProtocolClient) {
  return client.frames.filter((f) => f.channel === Channel.CONTROL && f.type === ControlType.ERROR).map((f) => ErrorMessage.decode(f.payload));
}

/** VSOCKET frames of `type` received so far and not yet taken. */
export function pendingV(client: ProtocolClient, type: number) {
  return client.frames.filter((f) => f.channel === Channel.VSOCKET && f.type === type);
}

/**
 * A RESOLVE round trip. The server handles a connection's frames in order and sends ERRORs at
 * once (Priority.CRITICAL), so when this resolves every ERROR caused by earlier frames has
 * arrived, and every effect of those frames on other sessions has been queued.
 */
export async function barrier(client: ProtocolClient): Promise<void> {
  const reqId = newReqId();
  sendV(client, VSocketType.RESOLVE_REQUEST, ResolveRequest, { reqId, name: "barrier" });
  expect((await nextV(client, VSocketType.RESOLVE_RESPONSE, ResolveResponse)).reqId).toBe(reqId);
}

export interface Pair {
  readonly connId: number;
  readonly a: Client;
  readonly b: Client;
  readonly aPort: number;
  readonly bPort: number;
}

/** Runs the whole connect handshake from `a` (port aPort) to `b` listening on bPort, accepting. */
export async function connectPair(a: Client, b: Client, aPort = 40001, bPort = 80): Promise<Pair> {
  const statusId = newReqId();
  sendV(a, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest, { reqId: statusId, peerIp: b.welcome.virtualIp, peerPort: bPort, localPort: aPort });
  const status = await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
  sendV(b, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: status.reqId, listening: true });
  expect(await nextV(a, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse)).toEqual({ reqId: statusId, listening: true });

  const connectId = newReqId();
  sendV(a, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest, { reqId: connectId, peerIp: b.welcome.virtualIp, peerPort: bPort, localPort: aPort });
  const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
  sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
  const atA = await nextV(a, VSocketType.SOCKET_CONNECTED, SocketConnected);
  const atB = await nextV(b, VSocketType.SOCKET_CONNECTED, SocketConnected);
  expect(atA.reqId).toBe(connectId);
  expect(atB.connId).toBe(atA.connId);
  return { connId: atA.connId, a, b, aPort, bPort };
}
