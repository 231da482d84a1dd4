/**
 * Network benchmark (`npm run bench` runs it after the buffer and relay benchmarks): round-trip
 * latency and echo throughput of gmnet's network_* functions between two engines in this Node
 * process, against a bare `ws` echo measured in the same run, printed as ratios.
 *
 *   TSX_TSCONFIG_PATH=packages/engine/bench/tsconfig.json node --import tsx packages/engine/bench/network.bench.ts [options]
 *
 *   --markdown          also print Markdown tables for the README
 *   --rounds N          rounds of every configuration (default 3); figures are medians over them
 *   --configs a,b       configurations to run (default all): bare, bare-relay, tcp, tcp-sealed, tcp60, bridge,
 *                       mcp, dc, p2p, relay, relay-sealed, relay60
 *   --pings N           sequential round trips per latency measurement (default 1000) …
 *   --latency-time MS   … or fewer when they take longer than this (default 500)
 *   --sizes 64,1024     payload sizes of the throughput measurement (default 64,1024; 4–16384,
 *                       gmnet's largest P2P datagram)
 *   --window N          messages in flight during the throughput measurement (default 256; the
 *                       first window is sent in one task, which the engine sends as few WebSocket
 *                       messages of at most 512 KiB; on the relay path keep window × (size + ~30
 *                       bytes) below half the server's maxQueuedBytes (2 MiB), above which the
 *                       server drops datagrams for a client that has not taken them yet; the mcp
 *                       configuration keeps at most 16 in flight, its server's default limit)
 *   --duration MS       measured time per throughput measurement (default 400), after …
 *   --warmup MS         … this much unmeasured sending (default 100)
 *
 * `npm run bench -- <args>` passes the same arguments to every benchmark: --markdown and --rounds
 * apply to all of them, --duration, --warmup and --window mean here what they mean to the relay
 * benchmark, and the other benchmarks' options (--filter, --in-process, --time, --warmup-time,
 * --pairs, --size, --only, --relay, --session, --sender, --server-cpu-prof) are accepted and ignored.
 *
 * Configurations (one engine pair each, A echoing what B sends):
 *   bare     a `ws` WebSocketServer (port 0) that sends every binary message back, and a `ws` client
 *   bare-relay  a `ws` server relaying between the pinger and a `ws` client that echoes (gmnet's
 *            topology: four WebSocket hops per round trip)
 *   tcp      network_send_packet on virtual TCP through the signaling server with its default
 *            config (tickRate 0: what one event-loop turn queued for a client leaves as one
 *            WebSocket message at the end of that turn, with no added delay)
 *   tcp-sealed  tcp with end-to-end encryption on both engines (network_encryption_shared: every
 *            packet sealed with AES-GCM by WebCrypto, docs/NETWORK.md "Encryption")
 *   tcp60    tcp with the server's tickRate 60 (frames batched per 16.7 ms tick)
 *   bridge   a native GameMaker client on real TCP through the server's --gm-bridge to engine A's
 *            network_create_server (default config plus the bridge)
 *   mcp      an MCP tools/call (@modelcontextprotocol/sdk client, Streamable HTTP, bearer token)
 *            through the server's /mcp to A's tool `echo`, which A answers inside its
 *            network_type_mcp_call event with network_mcp_tool_respond; default config plus one
 *            MCP token. Its throughput window is at most 16 calls, the server's default
 *            mcpMaxConcurrentCalls, as an agent's calls meet it. A message of N bytes is a call with arguments { seq, pad }
 *            and pad N characters long (inside the JSON-RPC request and its HTTP headers); the echo is
 *            the seq as the result's text. Every call is an HTTP POST answered in its response
 *            (fetch keeps connections alive and opens more while calls are in flight)
 *   dc       reference for p2p: two RTCPeerConnections of @roamhq/wrtc, no gmnet, one DataChannel
 *            configured as gmnet's UDP links are ({ ordered: false, maxRetransmits: 0 }), echoing
 *   p2p      network_send_udp over a WebRTC DataChannel (@roamhq/wrtc), once both ends receive via "p2p"
 *   relay    network_send_udp through the server relay (network_config_enable_webrtc 0), default config
 *   relay-sealed  relay with end-to-end encryption on both engines
 *   relay60  relay with the server's tickRate 60
 *
 * Everything runs in this process, on one thread (WebRTC's SCTP stack aside): the signaling
 * servers (port 0, db ":memory:", logLevel "silent", everything else at its default, the
 * byte-rate limit rateLimitBytes included: a client over it is read more slowly, not cut off),
 * the engines (`@gmnet/engine` from dist/, with `ws` and `@roamhq/wrtc`, as a Node bot uses it,
 * with its defaults: resumable sessions, the frames of one task sent as one message) and the
 * bare echo. On the WebSocket paths throughput is therefore bounded by the CPU cost of a
 * message's whole round trip (client, server, echoing peer, server, client), and so is the RTT;
 * on the DataChannel paths by @roamhq/wrtc, which leaves the CPU partly idle.
 * Engines are driven as a game loop would: await async_event_wait, then async_event_dispatch;
 * the echoing engine answers inside its data event, the sending engine sends the next message
 * inside the data event of an echo. Every round sets each configuration up afresh (new engines,
 * connection, P2P link); odd rounds run them in reverse order; before round 1 a short unmeasured
 * pass over the first two configurations warms up the JIT.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import wrtc from "@roamhq/wrtc";
import { type AsyncLoad, type Engine, createEngine, createMemoryStorage } from "@gmnet/engine";
import { type GmnetServer, type ServerOptions, createServer, defaultConfig } from "@gmnet/signaling-server";
import WebSocket, { WebSocketServer } from "ws";
import { parseBenchArgs } from "../../../scripts/bench-args.js";
import { type Socket, connect } from "node:net";

// ------------------------------------------------------------------ options

type ConfigId = "bare" | "bare-relay" | "tcp" | "tcp-sealed" | "tcp60" | "bridge" | "mcp" | "dc" | "p2p" | "relay" | "relay-sealed" | "relay60";

/** The signaling servers the gmnet configurations run on: what each changes of the server's defaults. */
type ServerId = "default" | "tick60" | "bridge" | "mcp";
/** The host name engine A claims in the bridge configuration, and the bridge's virtual port. */
const BRIDGE_HOST = "bench-host";
const BRIDGE_PORT = 6520;
/** The mcp configuration's bearer token (the server is on 127.0.0.1 for this run only) and A's tool. */
const MCP_TOKEN = "network-bench-mcp-token";
const MCP_TOOL = "echo";
const SERVERS: Readonly<Record<ServerId, Partial<ServerOptions>>> = {
  default: {},
  tick60: { tickRate: 60 },
  // Defaults plus one GameMaker bridge: a real TCP port (picked by the system) to A's server.
  bridge: { gmBridges: [{ port: 0, target: BRIDGE_HOST, targetPort: BRIDGE_PORT, appKey: "network-bench" }] },
  // Defaults plus /mcp for the bench's app key.
  mcp: { mcpTokens: [`network-bench=${MCP_TOKEN}`] },
};

interface Config {
  readonly id: ConfigId;
  readonly label: string;
  readonly path: string;
  readonly kind: "bare" | "bare-relay" | "dc" | "tcp" | "bridge" | "mcp" | "udp";
  /** The signaling server (gmnet configurations). */
  readonly server?: ServerId;
  /** Messages in flight during the throughput measurement, at most (else --window). */
  readonly maxWindow?: number;
  /** Both engines seal what they send (network_encryption_shared, docs/NETWORK.md "Encryption"). */
  readonly sealed?: boolean;
  /** The path UDP data events must report (`async_load.via`). */
  readonly via?: "p2p" | "relay";
}

const CONFIGS: readonly Config[] = [
  { id: "bare", label: "bare ws echo", path: "ws message", kind: "bare" },
  { id: "bare-relay", label: "bare ws relay to an echoing client (gmnet's topology)", path: "ws message, relayed", kind: "bare-relay" },
  { id: "tcp", label: "network_send_packet, virtual TCP, default config", path: "server, batched per turn", kind: "tcp", server: "default" },
  { id: "tcp-sealed", label: "network_send_packet, virtual TCP, end-to-end encrypted (AES-GCM)", path: "server, batched per turn", kind: "tcp", server: "default", sealed: true },
  { id: "tcp60", label: "network_send_packet, virtual TCP, tickRate 60", path: "server, batched per tick", kind: "tcp", server: "tick60" },
  { id: "bridge", label: "native GameMaker TCP client → --gm-bridge → engine server, default config", path: "TCP, then server, batched per turn", kind: "bridge", server: "bridge" },
  { id: "mcp", label: "MCP tools/call through /mcp to an engine's tool, answered by network_mcp_tool_respond, default config", path: "HTTP POST, then server", kind: "mcp", server: "mcp", maxWindow: defaultConfig.mcpMaxConcurrentCalls },
  { id: "dc", label: "bare DataChannel echo (reference)", path: "WebRTC DataChannel", kind: "dc" },
  { id: "p2p", label: "network_send_udp, P2P, default config", path: "WebRTC DataChannel", kind: "udp", server: "default", via: "p2p" },
  { id: "relay", label: "network_send_udp, relay, default config", path: "server, batched per turn", kind: "udp", server: "default", via: "relay" },
  { id: "relay-sealed", label: "network_send_udp, relay, end-to-end encrypted (AES-GCM)", path: "server, batched per turn", kind: "udp", server: "default", via: "relay", sealed: true },
  { id: "relay60", label: "network_send_udp, relay, tickRate 60", path: "server, batched per tick", kind: "udp", server: "tick60", via: "relay" },
];

interface Options {
  markdown: boolean;
  rounds: number;
  configs: ConfigId[];
  pings: number;
  latencyTimeMs: number;
  sizes: number[];
  window: number;
  durationMs: number;
  warmupMs: number;
}

/** A round trip (ping, or a window slot's message) not echoed within this long counts as lost. */
const LOSS_TIMEOUT_MS = 1000;
/** Connecting, accepting and waiting for the P2P path must each finish within this long. */
const SETUP_TIMEOUT_MS = 15_000;
const APP_KEY = "network-bench";
const TCP_PORT = 6510;
const UDP_PORT_A = 7100;
const UDP_PORT_B = 7200;
/** The largest payload: gmnet sends larger datagrams through the relay instead of the DataChannel. */
const MAX_SIZE = 16384;

function parseOptions(argv: readonly string[]): Options {
  const ids = CONFIGS.map((c) => c.id);
  const args = parseBenchArgs(
    argv,
    `usage: node --import tsx packages/engine/bench/network.bench.ts [--markdown] [--rounds 3] [--configs ${ids.join(",")}] ` +
      "[--pings 1000] [--latency-time 500] [--sizes 64,1024] [--window 256] [--duration 400] [--warmup 100]",
  );
  // The relay benchmark's names for what this one calls --configs and --sizes.
  for (const [theirs, ours] of [["only", "configs"], ["size", "sizes"]] as const) {
    const value = args.text(theirs);
    if (value !== undefined) console.log(`network benchmark: ignoring --${theirs} ${value} (the relay benchmark's; here use --${ours})`);
  }
  const configs = args.list("configs", ids);
  const unknown = configs.filter((id) => !ids.includes(id as ConfigId));
  if (unknown.length > 0 || configs.length === 0) throw new Error(`--configs takes ${ids.join(",")}, not ${unknown.join(",")}`);
  const sizes = args.list("sizes", ["64", "1024"]).map((raw) => {
    const size = Number(raw);
    if (!Number.isInteger(size) || size < 4 || size > MAX_SIZE) throw new Error(`--sizes needs whole numbers from 4 to ${MAX_SIZE}, not ${raw}`);
    return size;
  });
  if (sizes.length === 0) throw new Error("--sizes needs at least one size");
  // The baseline is what every ratio is against: always measured.
  if (!configs.includes("bare")) configs.unshift("bare");
  return {
    markdown: args.markdown,
    rounds: args.count("rounds", 1, 3),
    configs: configs as ConfigId[],
    pings: args.count("pings", 1, 1000),
    latencyTimeMs: args.count("latency-time", 1, 500),
    sizes,
    window: args.count("window", 1, 256),
    durationMs: args.count("duration", 100, 400),
    warmupMs: args.count("warmup", 0, 100),
  };
}

// ------------------------------------------------------------------ echo paths

/** B's end of an echo: sends numbered messages and hands back the numbers of the echoes. */
interface EchoPath {
  /** Sends message `seq` of `size` bytes (the number in its first 4 bytes, little-endian). */
  send(seq: number, size: number): void;
  /**
   * Waits at most `timeoutMs` for echoes, then hands every echo that has arrived to `onEcho`
   * (which may send). Returns false when none came in time.
   */
  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean>;
  /** Deliveries (at either end) that did not come over the configuration's path; reset by the caller. */
  offPath: number;
}

const now = (): number => performance.now();

/** Echo numbers taken from a callback API (ws, RTCDataChannel) until B's loop asks for them. */
class EchoInbox {
  private queue: number[] = [];
  private wake: (() => void) | undefined;
  closed: string | undefined;

  push(seq: number): void {
    this.queue.push(seq);
    this.wake?.();
  }

  close(why: string): void {
    this.closed = why;
    this.wake?.();
  }

  async receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    if (this.queue.length === 0 && this.closed === undefined) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.wake = done;
      });
    }
    if (this.closed !== undefined) throw new Error(this.closed);
    const batch = this.queue;
    this.queue = [];
    for (const seq of batch) onEcho(seq);
    return batch.length > 0;
  }
}

/** The bare baseline's client: a `ws` WebSocket to a server that echoes every message. */
class BareEchoClient implements EchoPath {
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
class DataChannelEchoClient implements EchoPath {
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

/**
 * A native GameMaker client on real TCP, written here from GameMaker's documented wire format (not
 * the engine's codec): read the greeting "GM:Studio-Connect\0", answer 0xCAFEBABE 0xDEADB00B 16 0,
 * read the 12-byte 0xDEAFBEAD 0xF00DBEEB 12 confirm; then every packet is a 12-byte header
 * (0xDEADC0DE, 12, payload length, little-endian) and the payload.
 */
class NativeGmClient implements EchoPath {
  offPath = 0;
  private readonly inbox = new EchoInbox();
  private readonly template = Buffer.alloc(12 + 65536);
  private pending: Buffer = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 12) {
        const size = this.pending.readUInt32LE(8);
        if (this.pending.readUInt32LE(0) !== 0xdeadc0de || this.pending.readUInt32LE(4) !== 12) return this.inbox.close("native client: a packet without GameMaker's header");
        if (this.pending.length < 12 + size) break;
        this.inbox.push(this.pending.readUInt32LE(12));
        this.pending = this.pending.subarray(12 + size);
      }
    });
    socket.on("close", () => this.inbox.close("native client: the bridge closed the TCP connection"));
    this.template.writeUInt32LE(0xdeadc0de, 0);
    this.template.writeUInt32LE(12, 4);
  }

  static async open(port: number): Promise<NativeGmClient> {
    const socket = connect({ host: "127.0.0.1", port, noDelay: true });
    socket.on("error", () => undefined); // "close" follows
    let received = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no GameMaker handshake through the bridge within ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
      const greeting = Buffer.from("GM:Studio-Connect\0", "latin1");
      let greeted = false;
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        if (!greeted && received.length >= greeting.length) {
          if (!received.subarray(0, greeting.length).equals(greeting)) return reject(new Error("the bridged server did not greet with GM:Studio-Connect"));
          greeted = true;
          received = received.subarray(greeting.length);
          const reply = Buffer.alloc(16);
          [0xcafebabe, 0xdeadb00b, 16, 0].forEach((word, i) => reply.writeUInt32LE(word, i * 4));
          socket.write(reply);
        }
        if (greeted && received.length >= 12) {
          if (received.readUInt32LE(0) !== 0xdeafbead || received.readUInt32LE(4) !== 0xf00dbeeb) return reject(new Error("the bridged server's handshake confirm is wrong"));
          clearTimeout(timer);
          socket.off("data", onData);
          resolve();
        }
      };
      socket.on("data", onData);
    });
    return new NativeGmClient(socket);
  }

  send(seq: number, size: number): void {
    this.template.writeUInt32LE(size, 8);
    this.template.writeUInt32LE(seq >>> 0, 12);
    // Node copies nothing on write: the template is reused, so hand it a copy.
    this.socket.write(Buffer.from(this.template.subarray(0, 12 + size)));
  }

  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    return this.inbox.receive(timeoutMs, onEcho);
  }
}

/**
 * The mcp configuration's B: an MCP client (the official SDK, Streamable HTTP) calling A's `echo`
 * tool, as an LLM agent's client would. Each send is a tools/call whose promise brings the echo.
 */
class McpEchoClient implements EchoPath {
  offPath = 0;
  private readonly inbox = new EchoInbox();
  /** Sliced for every call's `pad`: the message's size in characters of JSON arguments. */
  private readonly pad = "x".repeat(MAX_SIZE);

  private constructor(
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport,
  ) {}

  static async open(url: string): Promise<McpEchoClient> {
    const client = new Client({ name: "gmnet-network-bench", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MCP_TOKEN}` } } });
    await client.connect(transport);
    return new McpEchoClient(client, transport);
  }

  send(seq: number, size: number): void {
    // A rejected or failed call closes the inbox: the bench stops with the reason instead of
    // counting the message as lost (a refusal is not a loss, and would repeat for every call).
    this.client.callTool({ name: MCP_TOOL, arguments: { seq, pad: this.pad.slice(0, size) } }).then(
      (result) => {
        const first = (result.content as ReadonlyArray<{ type: string; text?: unknown }> | undefined)?.[0];
        const echo = first?.type === "text" ? Number(first.text) : NaN;
        if (result.isError === true || !Number.isInteger(echo)) this.inbox.close(`MCP client: ${MCP_TOOL} answered ${JSON.stringify(result).slice(0, 200)}`);
        else this.inbox.push(echo);
      },
      (error: unknown) => this.inbox.close(`MCP client: ${MCP_TOOL} call ${seq} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    return this.inbox.receive(timeoutMs, onEcho);
  }

  /** Set by the echoing engine's loop when it cannot answer or loses its connection. */
  report(problem: string): void {
    this.inbox.close(problem);
  }

  async close(): Promise<void> {
    // Ends the server's MCP session too (a DELETE), so rounds do not pile up sessions until the
    // server's mcpMaxSessions; only then the client and its transport.
    await this.transport.terminateSession().catch(() => undefined);
    await this.client.close();
  }
}

/** A bare `ws` server that sends every message back to its sender. */
function startBareEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
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
async function startBareRelayServer(): Promise<{ url: string; close(): Promise<void> }> {
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

async function startWsServer(wire: (wss: WebSocketServer) => void): Promise<{ url: string; close(): Promise<void> }> {
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

/** An event a setup step waited for. */
type Load = AsyncLoad & { event_type: number };

/** Drains `gm`'s events until one matches (others are dropped); only for setup, before anything is measured. */
async function nextEvent(gm: Engine, what: string, match: (load: AsyncLoad) => boolean, timeoutMs = SETUP_TIMEOUT_MS): Promise<Load> {
  const deadline = now() + timeoutMs;
  let found: Load | undefined;
  for (;;) {
    gm.async_event_dispatch((load, event_type) => {
      if (found === undefined && match(load)) found = { ...load, event_type };
    });
    if (found !== undefined) return found;
    const left = deadline - now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    await gm.async_event_wait(left);
  }
}

/**
 * An engine's game loop for the measurement: await an event, dispatch everything queued, again,
 * until stopped (within `idleMs` of stop(), or at once when the next event arrives).
 */
class EventLoop {
  private running = true;
  private readonly finished: Promise<void>;

  constructor(gm: Engine, handler: (load: AsyncLoad) => void, idleMs = 25) {
    this.finished = (async () => {
      while (this.running) {
        await gm.async_event_wait(idleMs);
        gm.async_event_dispatch(handler);
      }
    })();
  }

  stop(): Promise<void> {
    this.running = false;
    return this.finished;
  }
}

/** B's end of a gmnet echo: `transmit` sends bytes [0, size) of `buffer` with network_send_packet or network_send_udp. */
class EngineEchoClient implements EchoPath {
  offPath = 0;
  /** `async_load.via` of the latest echo (UDP). */
  lastVia: unknown;
  private readonly buffer: number;
  private onEcho: (seq: number) => void = () => {};
  private problem: string | undefined;
  private readonly handler: (load: AsyncLoad) => void;

  constructor(
    readonly gm: Engine,
    private readonly transmit: (buffer: number, size: number) => number,
    private readonly via?: string,
  ) {
    this.buffer = gm.buffer_create(65536, gm.buffer_fixed, 1);
    this.handler = (load) => {
      if (load.type === gm.network_type_data) {
        this.lastVia = load.via;
        if (this.via !== undefined && load.via !== this.via) this.offPath++;
        this.onEcho(gm.buffer_peek(load.buffer as number, 0, gm.buffer_u32) as number);
      } else if (load.type === gm.network_type_disconnect || load.type === gm.network_type_down) {
        this.problem ??= `sender: ${String(load.error)} ${String(load.message ?? "")}`;
      }
    };
  }

  send(seq: number, size: number): void {
    this.gm.buffer_poke(this.buffer, 0, this.gm.buffer_u32, seq >>> 0);
    const sent = this.transmit(this.buffer, size);
    if (sent !== size) this.problem ??= `sending ${size} bytes returned ${sent}`;
  }

  async receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    const { gm } = this;
    if (gm.async_event_pending() === 0 && !(await gm.async_event_wait(timeoutMs))) return this.fail(false);
    this.onEcho = onEcho;
    gm.async_event_dispatch(this.handler);
    return this.fail(true);
  }

  /** Set by the echoing side's loop when it sees a disconnect. */
  report(problem: string): void {
    this.problem ??= problem;
  }

  private fail(result: boolean): boolean {
    if (this.problem === undefined) return result;
    const tooBig = this.problem.includes("(1009)") ? " — the server refused a WebSocket message over its maxMessageSize (1 MiB)" : "";
    throw new Error(this.problem + tooBig);
  }
}

// ------------------------------------------------------------------ setups

interface Setup {
  readonly path: EchoPath;
  close(): Promise<void>;
}

interface Environment {
  bareUrl: string;
  /** Started on first use: it serves one pinger at a time. */
  bareRelay?: Promise<{ url: string; close(): Promise<void> }>;
  servers: Map<ServerId, GmnetServer>;
  engines: Engine[];
}

/** Stops A's loop and shuts both engines down. */
async function closePair(env: Environment, loop: EventLoop, engines: readonly Engine[]): Promise<void> {
  await loop.stop();
  for (const gm of engines) {
    gm.network_shutdown();
    env.engines.splice(env.engines.indexOf(gm), 1);
  }
}

function engineOn(env: Environment, serverId: ServerId): Engine {
  const server = env.servers.get(serverId);
  if (server === undefined) throw new Error(`no signaling server "${serverId}"`);
  const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: server.address().wsUrl, appKey: APP_KEY } });
  env.engines.push(gm);
  return gm;
}

const isUp = (gm: Engine) => (load: AsyncLoad) => load.type === gm.network_type_up;

/** The sealed configurations' shared secret (any 8+ characters: the bench measures the sealing, not the key). */
const SEAL_SECRET = "network-bench-secret";

/** Gives every engine the shared key (PBKDF2, once per engine, before the measurement) and turns encryption on. */
async function seal(engines: readonly Engine[]): Promise<void> {
  for (const gm of engines) {
    const request = gm.network_set_config(gm.network_config_encryption_key, SEAL_SECRET);
    const derived = await nextEvent(gm, "the key derivation", (load) => load.type === gm.network_type_encryption && load.id === request);
    if (derived.succeeded !== 1) throw new Error(`no key: ${String(derived.message)}`);
    gm.network_set_config(gm.network_config_encryption, gm.network_encryption_shared);
  }
}

/** Engine A listens (network_create_server), B connects; A echoes every packet with network_send_packet. */
async function tcpSetup(env: Environment, serverId: ServerId, sealed: boolean): Promise<Setup> {
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
async function bridgeSetup(env: Environment): Promise<Setup> {
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
async function mcpSetup(env: Environment): Promise<Setup> {
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
async function udpSetup(env: Environment, serverId: ServerId, via: "p2p" | "relay", sealed: boolean): Promise<Setup> {
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

async function setup(env: Environment, config: Config): Promise<Setup> {
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

// ------------------------------------------------------------------ measurements

/** Message numbers are unique over the whole run, so a late echo is never taken for another. */
let nextSeq = 1;

interface Latency {
  /** Round-trip times in ms. */
  samples: number[];
  lost: number;
}

/** Sequential ping-pongs: one message out, wait for its echo, the next. */
async function measureLatency(path: EchoPath, options: Options): Promise<Latency> {
  const size = 64;
  const samples: number[] = [];
  let lost = 0;
  const until = now() + options.latencyTimeMs;
  for (let i = 0; i < options.pings && (i === 0 || now() < until); i++) {
    const seq = nextSeq++;
    let echoed = false;
    const sentAt = now();
    path.send(seq, size);
    for (;;) {
      const left = sentAt + LOSS_TIMEOUT_MS - now();
      if (left <= 0) break;
      await path.receive(left, (echo) => {
        if (echo === seq) echoed = true;
      });
      if (echoed) break;
    }
    if (echoed) samples.push(now() - sentAt);
    else lost++;
  }
  return { samples, lost };
}

interface Throughput {
  /** Echoes received per second during the measured time. */
  messagesPerSecond: number;
  /** Messages sent in the phase (warm-up included) and how many of them never came back. */
  sent: number;
  lost: number;
}

/**
 * `window` messages in flight: every echo sends the next message. A message not echoed within
 * LOSS_TIMEOUT_MS counts as lost and frees its slot. Rate = echoes after the first arrival past
 * the warm-up, up to the first arrival past the duration, over the time between those arrivals.
 */
async function measureThroughput(path: EchoPath, size: number, options: Options): Promise<Throughput> {
  const outstanding = new Map<number, number>(); // seq → send time, in send order
  let sending = true;
  let sent = 0;
  let lost = 0;
  let delivered = 0;
  const sendOne = (): void => {
    const seq = nextSeq++;
    outstanding.set(seq, now());
    sent++;
    path.send(seq, size);
  };
  const onEcho = (seq: number): void => {
    if (!outstanding.delete(seq)) return; // a late echo of an earlier measurement
    delivered++;
    if (sending) sendOne();
  };
  const expire = (time: number): void => {
    for (const [seq, sentAt] of outstanding) {
      if (time - sentAt < LOSS_TIMEOUT_MS) break;
      outstanding.delete(seq);
      lost++;
      if (sending) sendOne();
    }
  };

  const started = now();
  for (let i = 0; i < options.window; i++) sendOne();
  let t0 = -1;
  let t1 = -1;
  let counted = 0;
  while (t1 < 0) {
    await path.receive(100, onEcho);
    const time = now();
    if (t0 < 0) {
      if (time - started >= options.warmupMs) {
        t0 = time;
        delivered = 0;
      }
    } else if (time - t0 >= options.durationMs) {
      t1 = time;
      counted = delivered;
      sending = false;
    }
    expire(time);
  }
  // Let what is still in flight come back (or time out) before the next measurement.
  while (outstanding.size > 0 && now() - t1 < LOSS_TIMEOUT_MS + 100) {
    await path.receive(50, onEcho);
    expire(now());
  }
  lost += outstanding.size;
  return { messagesPerSecond: counted / ((t1 - t0) / 1000), sent, lost };
}

interface Measurement {
  rttMedian: number;
  rttP99: number;
  pings: number;
  pingsLost: number;
  /** By payload size. */
  throughput: Map<number, Throughput>;
  offPath: number;
}

/** The configurations that keep fewer messages in flight than --window, for the footer. */
function capped(options: Options): string {
  const fewer = CONFIGS.filter((config) => options.configs.includes(config.id) && config.maxWindow !== undefined && config.maxWindow < options.window);
  return fewer.map((config) => ` (${config.id}: ${config.maxWindow}, its server's limit)`).join("");
}

async function measure(env: Environment, config: Config, options: Options): Promise<Measurement> {
  const { path, close } = await setup(env, config);
  try {
    path.offPath = 0;
    const latency = await measureLatency(path, options);
    const throughput = new Map<number, Throughput>();
    const window = Math.min(options.window, config.maxWindow ?? options.window);
    for (const size of options.sizes) throughput.set(size, await measureThroughput(path, size, { ...options, window }));
    if (latency.samples.length === 0) throw new Error(`${config.label}: every ping was lost`);
    return {
      rttMedian: percentile(latency.samples, 0.5),
      rttP99: percentile(latency.samples, 0.99),
      pings: latency.samples.length + latency.lost,
      pingsLost: latency.lost,
      throughput,
      offPath: path.offPath,
    };
  } finally {
    await close();
  }
}

// ------------------------------------------------------------------ figures

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Nearest-rank percentile (0.5 is the median of an odd count). */
function percentile(values: readonly number[], p: number): number {
  if (p === 0.5) return median(values);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Row {
  config: Config;
  rttMedian: number;
  rttP99: number;
  /** Medians of the per-round gmnet/bare ratios. */
  rttMedianRatio: number;
  rttP99Ratio: number;
  pings: number;
  pingsLost: number;
  throughput: Array<{ size: number; messagesPerSecond: number; ratio: number; lossShare: number }>;
  offPath: number;
}

function summarize(config: Config, rounds: ReadonlyArray<Map<ConfigId, Measurement>>, sizes: readonly number[]): Row {
  const mine = rounds.map((round) => round.get(config.id)!);
  const bare = rounds.map((round) => round.get("bare")!);
  const ratios = (pick: (m: Measurement) => number): number => median(mine.map((m, i) => pick(m) / pick(bare[i]!)));
  const rate = (size: number) => (m: Measurement) => m.throughput.get(size)!.messagesPerSecond;
  return {
    config,
    rttMedian: median(mine.map((m) => m.rttMedian)),
    rttP99: median(mine.map((m) => m.rttP99)),
    rttMedianRatio: ratios((m) => m.rttMedian),
    rttP99Ratio: ratios((m) => m.rttP99),
    pings: mine.reduce((sum, m) => sum + m.pings, 0),
    pingsLost: mine.reduce((sum, m) => sum + m.pingsLost, 0),
    throughput: sizes.map((size) => {
      const sent = mine.reduce((sum, m) => sum + m.throughput.get(size)!.sent, 0);
      const lost = mine.reduce((sum, m) => sum + m.throughput.get(size)!.lost, 0);
      return { size, messagesPerSecond: median(mine.map(rate(size))), ratio: ratios(rate(size)), lossShare: sent === 0 ? 0 : lost / sent };
    }),
    offPath: mine.reduce((sum, m) => sum + m.offPath, 0),
  };
}

const integer = (value: number): string => Math.round(value).toLocaleString("en-US");
const ms = (value: number): string => `${value < 1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const ratio = (value: number): string => `${value < 0.1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)}×`;
const megabytes = (value: number): string => (value / 1e6).toFixed(value < 1e7 ? 2 : 1);
const sizeName = (size: number): string => (size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`);
const percent = (share: number): string => (share === 0 ? "0 %" : share < 0.001 ? "<0.1 %" : `${(share * 100).toFixed(1)} %`);

function latencyTable(rows: readonly Row[]): { header: string[]; body: string[][]; align: string } {
  return {
    header: ["configuration", "path", "RTT median", "vs bare", "RTT p99", "vs bare", "pings (lost)"],
    body: rows.map((row) => [
      row.config.label,
      row.config.path,
      ms(row.rttMedian),
      ratio(row.rttMedianRatio),
      ms(row.rttP99),
      ratio(row.rttP99Ratio),
      `${integer(row.pings)} (${integer(row.pingsLost)})`,
    ]),
    align: "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  };
}

function throughputTable(rows: readonly Row[], sizes: readonly number[]): { header: string[]; body: string[][]; align: string } {
  return {
    header: ["configuration", ...sizes.flatMap((size) => [`${sizeName(size)} msg/s`, "MB/s", "vs bare"]), "lost"],
    body: rows.map((row) => [
      row.config.label,
      ...row.throughput.flatMap((t) => [integer(t.messagesPerSecond), megabytes(t.messagesPerSecond * t.size), ratio(t.ratio)]),
      row.throughput.map((t) => percent(t.lossShare)).join(" / "),
    ]),
    align: `| --- | ${sizes.map(() => "---: | ---: | ---:").join(" | ")} | ---: |`,
  };
}

function plain(table: { header: string[]; body: string[][] }): string {
  const widths = table.header.map((title, column) => Math.max(title.length, ...table.body.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) => line.map((cell, column) => (column < 1 || (column === 1 && !/\d/.test(cell)) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [format(table.header), widths.map((width) => "-".repeat(width)).join("  "), ...table.body.map(format)].join("\n");
}

function markdown(table: { header: string[]; body: string[][]; align: string }): string {
  const line = (values: readonly string[]) => `| ${values.join(" | ")} |`;
  // Function and package names as code in the README.
  const code = (cells: readonly string[]) => cells.map((cell) => cell.replace(/\b(network_\w+|ws)\b/g, "`$1`"));
  return [line(table.header), table.align, ...table.body.map((cells) => line(code(cells)))].join("\n");
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const configs = CONFIGS.filter((c) => options.configs.includes(c.id));
  const started = now();
  console.log(
    `\ngmnet network benchmark: ${configs.length} configurations; RTT of up to ${options.pings} sequential 64-byte round trips (≤ ${options.latencyTimeMs} ms); ` +
      `echo throughput of ${options.sizes.map(sizeName).join(" and ")} messages, ${options.window} in flight, ${options.warmupMs} ms warm-up + ${options.durationMs} ms; ` +
      `${options.rounds} round(s); servers, engines and bare echo in this process; Node ${process.version}`,
  );

  const bareServer = await startBareEchoServer();
  const env: Environment = { bareUrl: bareServer.url, servers: new Map(), engines: [] };
  for (const serverId of new Set(configs.flatMap((c) => (c.server === undefined ? [] : [c.server])))) {
    // The server's defaults (rate limit included) plus the configuration's overrides; nothing else.
    const server = createServer({ ...SERVERS[serverId], host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent" });
    await server.ready;
    env.servers.set(serverId, server);
  }

  const rounds: Array<Map<ConfigId, Measurement>> = [];
  try {
    // An unmeasured, shorter pass over the baseline and the first gmnet configuration, so round 1
    // does not measure ws and the engine before the JIT has compiled them.
    const warmUp: Options = { ...options, pings: 500, latencyTimeMs: 150, warmupMs: 50, durationMs: 150 };
    for (const config of configs.slice(0, 2)) await measure(env, config, warmUp);
    for (let round = 0; round < options.rounds; round++) {
      const results = new Map<ConfigId, Measurement>();
      // Odd rounds run the configurations in reverse order, so drift over the run hits all alike.
      const order = round % 2 === 0 ? configs : [...configs].reverse();
      for (const config of order) {
        const began = now();
        const result = await measure(env, config, options);
        results.set(config.id, result);
        const rates = options.sizes.map((size) => `${integer(result.throughput.get(size)!.messagesPerSecond)} msg/s (${sizeName(size)})`).join(", ");
        console.log(`  round ${round + 1}/${options.rounds}: ${config.label}: RTT ${ms(result.rttMedian)} median, ${ms(result.rttP99)} p99; ${rates} (${((now() - began) / 1000).toFixed(1)} s)`);
      }
      rounds.push(results);
    }
  } finally {
    for (const gm of env.engines) gm.network_shutdown();
    await Promise.all([...env.servers.values()].map((server) => server.close()));
    await bareServer.close();
    if (env.bareRelay !== undefined) await (await env.bareRelay).close();
  }

  const rows = configs.map((config) => summarize(config, rounds, options.sizes));
  const latency = latencyTable(rows);
  const throughput = throughputTable(rows, options.sizes);
  console.log("");
  console.log(plain(latency));
  console.log("");
  console.log(plain(throughput));
  for (const row of rows) {
    if (row.offPath > 0) console.log(`\nNOTE: ${row.config.label}: ${row.offPath} deliveries did not come via ${row.config.via ?? "the expected path"}`);
  }
  if (options.markdown) {
    console.log("");
    console.log(markdown(latency));
    console.log("");
    console.log(markdown(throughput));
  }
  const seconds = ((now() - started) / 1000).toFixed(1);
  console.log(
    `\nRTT = one ${64}-byte message to the echoing end and back, median / 99th percentile over a round's pings, median over ${options.rounds} rounds; ` +
      `msg/s = echoes received per second with ${options.window} messages in flight${capped(options)}, MB/s = msg/s × payload size (10^6 bytes); ` +
      `"vs bare" = gmnet / bare ws in the same round (median over rounds): above 1 is slower for RTT, below 1 is slower for throughput; ` +
      `lost = messages never echoed within ${LOSS_TIMEOUT_MS} ms, by size. (${seconds} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
