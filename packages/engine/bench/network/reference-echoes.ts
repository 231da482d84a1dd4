/**
 * The references gmnet is measured against (network.bench.ts): a bare `ws` echo, a bare `ws`
 * relay to an echoing client (gmnet's topology), and a bare WebRTC DataChannel echo.
 */
import wrtc from "@roamhq/wrtc";
import WebSocket, { WebSocketServer } from "ws";
import { EchoInbox, type EchoPath } from "./echo-path.js";
import { SETUP_TIMEOUT_MS } from "./options.js";

/** The bare baseline's client: a `ws` WebSocket to a server that echoes every message. */
export class BareEchoClient implements EchoPath {
  offPath = 0;
  private readonly template = Buffer.alloc(65536);
  private readonly inbox = new EchoInbox();

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: Buffer) => this.inbox.push(data.readUInt32LE(0)));
    ws.on("close", (code) => this.inbox.close(`bare ws client: closed with ${code}`));
  }

  static async open(url: string): Promise<BareEchoClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new BareEchoClient(ws);
  }

  send(seq: number, size: number): void {
    this.template.writeUInt32LE(seq >>> 0, 0);
    // ws copies a Buffer while masking it, so the template can be reused at once.
    this.ws.send(this.template.subarray(0, size), { binary: true });
  }

  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    return this.inbox.receive(timeoutMs, onEcho);
  }
}

/**
 * The DataChannel reference: two RTCPeerConnections in this process, signaled directly, one
 * unordered, unreliable channel (as gmnet's UDP links) whose far end sends every message back.
 */
export class DataChannelEchoClient implements EchoPath {
  offPath = 0;
  private readonly template = new Uint8Array(65536);
  private readonly view = new DataView(this.template.buffer);
  private readonly inbox = new EchoInbox();

  private constructor(
    private readonly channel: RTCDataChannel,
    private readonly connections: RTCPeerConnection[],
  ) {
    channel.binaryType = "arraybuffer";
    channel.onmessage = (event: MessageEvent<ArrayBuffer>) => this.inbox.push(new DataView(event.data).getUint32(0, true));
    channel.onclose = () => this.inbox.close("the reference DataChannel closed");
  }

  static async open(): Promise<DataChannelEchoClient> {
    const Connection = wrtc.RTCPeerConnection as unknown as typeof RTCPeerConnection;
    const near = new Connection();
    const far = new Connection();
    near.onicecandidate = (event) => void (event.candidate && far.addIceCandidate(event.candidate));
    far.onicecandidate = (event) => void (event.candidate && near.addIceCandidate(event.candidate));
    far.ondatachannel = (event) => {
      const echo = event.channel;
      echo.binaryType = "arraybuffer";
      echo.onmessage = (message: MessageEvent<ArrayBuffer>) => {
        if (echo.readyState === "open") echo.send(message.data);
      };
    };
    const channel = near.createDataChannel("echo", { ordered: false, maxRetransmits: 0 });
    const opened = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the DataChannel did not open within ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
      channel.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    await near.setLocalDescription(await near.createOffer());
    await far.setRemoteDescription(near.localDescription!);
    await far.setLocalDescription(await far.createAnswer());
    await near.setRemoteDescription(far.localDescription!);
    if (channel.readyState !== "open") await opened;
    return new DataChannelEchoClient(channel, [near, far]);
  }

  send(seq: number, size: number): void {
    this.view.setUint32(0, seq >>> 0, true);
    if (this.channel.readyState === "open") this.channel.send(this.template.subarray(0, size));
  }

  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    return this.inbox.receive(timeoutMs, onEcho);
  }

  close(): void {
    this.channel.onmessage = null;
    this.channel.onclose = null;
    for (const connection of this.connections) connection.close();
  }
}

/** A bare `ws` server that sends every message back to its sender. */
export function startBareEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  return startWsServer((wss) =>
    wss.on("connection", (ws) => {
      ws.on("error", () => undefined);
      ws.on("message", (data: Buffer, isBinary) => ws.send(data, { binary: isBinary }));
    }),
  );
}

/**
 * A bare `ws` server that relays between two clients, the topology of every gmnet path through
 * the server: the pinger's message goes to the echoing client and its echo back, four WebSocket
 * hops per round trip where the bare echo has two.
 */
export async function startBareRelayServer(): Promise<{ url: string; close(): Promise<void> }> {
  const relay = await startWsServer((wss) => {
    let echoer: WebSocket | undefined;
    let pinger: WebSocket | undefined;
    wss.on("connection", (ws) => {
      ws.on("error", () => undefined);
      if (echoer === undefined) echoer = ws;
      else pinger = ws;
      ws.on("message", (data: Buffer, isBinary) => (ws === echoer ? pinger : echoer)?.send(data, { binary: isBinary }));
      ws.on("close", () => {
        if (ws === echoer) echoer = undefined;
        if (ws === pinger) pinger = undefined;
      });
    });
  });
  // The echoing client: sends every message back to the relay.
  const echoing = new WebSocket(relay.url, { perMessageDeflate: false });
  echoing.on("message", (data: Buffer, isBinary) => echoing.send(data, { binary: isBinary }));
  await new Promise<void>((resolve, reject) => {
    echoing.once("open", () => resolve());
    echoing.once("error", reject);
  });
  return {
    url: relay.url,
    close: async () => {
      echoing.terminate();
      await relay.close();
    },
  };
}

export async function startWsServer(wire: (wss: WebSocketServer) => void): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  wire(wss);
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("the bare server has no TCP address");
  return {
    url: `ws://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
