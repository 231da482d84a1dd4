/**
 * The relay benchmark's sender/receiver pairs (relay.bench.ts, cluster-measure.ts): over the bare
 * `ws` forwarder, or gmnet clients joined by a virtual-socket connect or an app channel; the frames
 * they send, written in one allocation, and the check of their order on arrival.
 */
import {
  ArbitraryData,
  Channel,
  ChannelAssigned,
  ChannelRegister,
  ControlType,
  FRAME_HEADER_SIZE,
  type Frame,
  Priority,
  RequestFailed,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
  concatFrames,
  encodeFrame,
} from "@gmnet/protocol";
import WebSocket from "ws";
import { LISTEN_PORT, type RelayOptions, type RelayPath } from "./config.js";
import { GmnetClient, until } from "./gmnet-client.js";
import { onDelivered } from "./pumping.js";

/** One sender/receiver pair with its relay path, ready to send message number `seq`. */
export interface Pair {
  /** Sends one message; `counter` is written into it so the receiver can check order. */
  sendOne(counter: number): void;
  sent: number;
  received: number;
  outOfOrder: number;
  receiverWsMessages(): number;
  /** Throws if either end got an ERROR or lost its connection. */
  verify(): void;
  close(): void;
}

/** Writes `counter` into the first 4 bytes of a fresh `size`-byte message body. */
export function body(size: number, counter: number): Uint8Array {
  const data = new Uint8Array(size);
  if (size >= 4) new DataView(data.buffer).setUint32(0, counter >>> 0, true);
  return data;
}

/**
 * One whole frame in one allocation, as a tuned client would write it: header, then `words`
 * (u32 fields such as connId and seq), then a `size`-byte body starting with `counter`. The
 * clients are the bottleneck on a 2-core machine, so the codec's two allocations per message
 * would lower every gmnet figure for client-side reasons. checkRawFrames() proves the bytes equal
 * the protocol codecs' output.
 */
export function rawFrame(channel: number, type: number, words: readonly number[], size: number, counter: number): Uint8Array {
  const prefix = 4 * words.length;
  const out = new Uint8Array(FRAME_HEADER_SIZE + prefix + size);
  const view = new DataView(out.buffer);
  view.setUint16(0, channel, true);
  view.setUint16(2, type, true);
  view.setUint8(4, Priority.NORMAL);
  view.setUint32(8, prefix + size, true);
  for (let i = 0; i < words.length; i++) view.setUint32(FRAME_HEADER_SIZE + 4 * i, words[i]!, true);
  if (size >= 4) view.setUint32(FRAME_HEADER_SIZE + prefix, counter >>> 0, true);
  return out;
}

export function checkRawFrames(size: number): void {
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i]);
  const data = rawFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, [0x01020304, 7], size, 0xa1b2c3d4);
  const viaCodec = encodeFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, ArbitraryData.encode({ connId: 0x01020304, seq: 7, data: body(size, 0xa1b2c3d4) }));
  const app = rawFrame(1000, 1, [], size, 42);
  if (!same(data, viaCodec) || !same(app, encodeFrame(1000, 1, Priority.NORMAL, body(size, 42)))) throw new Error("rawFrame does not match the protocol codecs");
}

export function counterOf(data: Uint8Array): number {
  return data.length >= 4 ? new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true) : 0;
}

export async function bareWsPair(url: string, index: number, options: RelayOptions): Promise<Pair> {
  const open = (role: string): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}?pair=${index}&role=${role}`, { perMessageDeflate: false });
      ws.binaryType = "nodebuffer";
      ws.on("error", reject);
      ws.once("open", () => resolve(ws));
    });
  const b = await open("b");
  const a = await open("a");
  let bMessages = 0;
  const pair: Pair = {
    sent: 0,
    received: 0,
    outOfOrder: 0,
    sendOne: (counter) => a.send(body(options.size, counter)),
    receiverWsMessages: () => bMessages,
    verify: () => {
      if (a.readyState !== WebSocket.OPEN || b.readyState !== WebSocket.OPEN) throw new Error(`pair ${index}: a connection closed during the measurement`);
    },
    close: () => {
      a.terminate();
      b.terminate();
    },
  };
  b.on("message", (data: Buffer) => {
    bMessages++;
    if (counterOf(data) !== pair.received >>> 0) pair.outOfOrder++;
    pair.received++;
    onDelivered(pair);
  });
  return pair;
}

/** The seed-002 connect flow from A to B's LISTEN_PORT; B accepts. Returns A's connId. */
export async function connectVirtualSocket(a: GmnetClient, b: GmnetClient, localPort: number): Promise<number> {
  const request = (reqId: number) => SocketRequest.encode({ reqId, peerIp: b.virtualIp, peerPort: LISTEN_PORT, localPort });
  const failed = (): void => {
    a.check("requester");
    b.check("target");
    const failure = a.take(Channel.VSOCKET, VSocketType.REQUEST_FAILED);
    if (failure !== undefined) throw new Error(`REQUEST_FAILED reason ${RequestFailed.decode(failure.payload).reason}`);
  };

  a.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST, request(1));
  const status = await until("SOCKET_STATUS_REQUEST at the target", () => (failed(), b.take(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST)));
  b.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse.encode({ reqId: SocketRequest.decode(status.payload).reqId, listening: true }));
  const answer = await until("SOCKET_STATUS_RESPONSE at the requester", () => (failed(), a.take(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE)));
  if (!SocketStatusResponse.decode(answer.payload).listening) throw new Error("the target reported nothing listening");

  a.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST, request(2));
  const connect = await until("SOCKET_CONNECTION_REQUEST at the target", () => (failed(), b.take(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST)));
  b.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse.encode({ reqId: SocketRequest.decode(connect.payload).reqId, accepted: true }));
  // Both ends get SOCKET_CONNECTED; keep whichever arrives first until the other one does.
  let atRequester: Frame | undefined;
  let atTarget: Frame | undefined;
  const connected = await until("SOCKET_CONNECTED at both ends", () => {
    failed();
    atRequester ??= a.take(Channel.VSOCKET, VSocketType.SOCKET_CONNECTED);
    atTarget ??= b.take(Channel.VSOCKET, VSocketType.SOCKET_CONNECTED);
    return atRequester && atTarget ? atRequester : undefined;
  });
  return SocketConnected.decode(connected.payload).connId;
}

/** A pair with A on `url` and B on `receiverUrl` (another node of a cluster, cluster.bench.ts; by default the same server). */
export async function gmnetPair(url: string, index: number, options: RelayOptions, path: RelayPath, receiverUrl = url): Promise<Pair> {
  const a = new GmnetClient(url, options.session);
  const b = new GmnetClient(receiverUrl, options.session);
  await Promise.all([a.hello(), b.hello()]);
  if (receiverUrl !== url) await b.barrier();

  let send: (counter: number) => void;
  const transmit = frameSender(a.ws, options.sender);
  if (path === "ARBITRARY_DATA") {
    const connId = await connectVirtualSocket(a, b, 40000 + index);
    [b.dataChannel, b.dataType] = [Channel.VSOCKET, VSocketType.ARBITRARY_DATA];
    let seq = 0;
    send = (counter) => transmit(rawFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, [connId, ++seq], options.size, counter));
  } else {
    const name = `relay-${index}`;
    for (const client of [a, b]) client.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, ChannelRegister.encode({ name }), Priority.HIGH);
    const channels = await Promise.all(
      [a, b].map((client, i) =>
        until("CHANNEL_ASSIGNED", () => {
          client.check(i === 0 ? "sender" : "receiver");
          const frame = client.take(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED);
          return frame && ChannelAssigned.decode(frame.payload).channel;
        }),
      ),
    );
    const channel = channels[0]!;
    [b.dataChannel, b.dataType] = [channel, 1];
    send = (counter) => transmit(rawFrame(channel, 1, [], options.size, counter));
  }

  const pair: Pair = {
    sent: 0,
    received: 0,
    outOfOrder: 0,
    sendOne: send,
    receiverWsMessages: () => b.wsMessages,
    verify: () => {
      a.check(`pair ${index} sender`);
      b.check(`pair ${index} receiver`);
    },
    close: () => {
      a.close();
      b.close();
    },
  };
  b.onData = (frame) => {
    // The counter follows connId and seq in ARBITRARY_DATA; an app channel payload starts with it.
    const data = path === "ARBITRARY_DATA" ? frame.payload.subarray(8) : frame.payload;
    if (counterOf(data) !== pair.received >>> 0) pair.outOfOrder++;
    pair.received++;
  };
  // Top up once per WebSocket message at B (a batch may deliver many frames at once).
  b.ws.on("message", () => onDelivered(pair));
  return pair;
}

/** Largest WebSocket message of a "task" sender, as the engine's MAX_BATCH_BYTES. */
export const MAX_SENDER_BATCH = 512 * 1024;

/** Sends frames through `ws` one message each, or (per task) as the engine does: what one task queued, as one message at its end. */
export function frameSender(ws: WebSocket, mode: RelayOptions["sender"]): (frame: Uint8Array) => void {
  if (mode === "message") return (frame) => ws.send(frame);
  let pending: Uint8Array[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    const frames = pending;
    pending = [];
    ws.send(frames.length === 1 ? frames[0]! : concatFrames(frames, bytes));
    bytes = 0;
  };
  return (frame) => {
    if (bytes + frame.length > MAX_SENDER_BATCH) flush();
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(frame);
    bytes += frame.length;
  };
}
