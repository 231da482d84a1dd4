/**
 * A stand-in signaling server for engine tests that need no real one: it answers HELLO with
 * WELCOME (the protocol's own codecs), records every later frame, and lets the test answer
 * master requests, push events and VIRTUAL_IP, or drop the connection — whenever it chooses.
 * Waiting is event-driven (`next`, `nextConnection`), never sleep-then-look.
 */
import { WebSocketServer, type WebSocket } from "ws";
import {
  Channel,
  ControlType,
  type Frame,
  FrameDecoder,
  Hello,
  type HelloMessage,
  MasterEventMessage,
  MasterRequest,
  MasterResponse,
  MasterType,
  PROTOCOL_VERSION,
  Priority,
  VSocketType,
  VirtualIp,
  Resumed,
  Welcome,
  encodeFrame,
} from "@gmnet/protocol";

export interface MasterCall {
  readonly reqId: number;
  readonly op: number;
  /** The body as text, exactly as sent. */
  readonly text: string;
}

export class FakeConnection {
  readonly frames: Frame[] = [];
  private readonly taken = new Set<number>();
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly hello: HelloMessage,
    readonly virtualIp: number,
  ) {}

  send(channel: number, type: number, payload: Uint8Array): void {
    this.socket.send(encodeFrame(channel, type, Priority.NORMAL, payload));
  }

  respond(call: MasterCall, status: number, body: unknown = {}): void {
    const bytes = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
    this.send(Channel.MASTER, MasterType.RESPONSE, MasterResponse.encode({ reqId: call.reqId, op: call.op, status, body: bytes }));
  }

  event(event: number, body: unknown): void {
    this.send(Channel.MASTER, MasterType.EVENT, MasterEventMessage.encode({ event, body: new TextEncoder().encode(JSON.stringify(body)) }));
  }

  moveTo(ip: number): void {
    this.send(Channel.VSOCKET, VSocketType.VIRTUAL_IP, VirtualIp.encode({ ip }));
  }

  /** The oldest frame of (channel, type) not yet returned that passes `match`; fails after `timeoutMs`. */
  next(channel: number, type: number, match: (frame: Frame) => boolean = () => true, timeoutMs = 5_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        const index = this.frames.findIndex((frame, i) => !this.taken.has(i) && frame.channel === channel && frame.type === type && match(frame));
        if (index < 0) return false;
        this.taken.add(index);
        clearTimeout(timer);
        resolve(this.frames[index]!);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`no frame ${channel}/${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (look()) this.waiters = this.waiters.filter((waiter) => waiter !== check);
      };
      if (!look()) this.waiters.push(check);
    });
  }

  /** The next master REQUEST (optionally of `op`). */
  async request(op?: number): Promise<MasterCall> {
    const frame = await this.next(Channel.MASTER, MasterType.REQUEST, (f) => op === undefined || MasterRequest.decode(f.payload).op === op);
    const { reqId, op: actual, body } = MasterRequest.decode(frame.payload);
    return { reqId, op: actual, text: new TextDecoder().decode(body) };
  }

  received(frame: Frame): void {
    this.frames.push(frame);
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface FakeServer {
  readonly url: string;
  readonly connections: FakeConnection[];
  /** The next connection to say HELLO (already WELCOMEd). */
  nextConnection(timeoutMs?: number): Promise<FakeConnection>;
  close(): Promise<void>;
}

/** Every connection gets `identityIp` (10.0.0.1, 10.0.0.2, … by default) in its WELCOME. */
export async function startFakeServer(identityIp: (index: number) => number = (index) => 0x0a000001 + index): Promise<FakeServer> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const connections: FakeConnection[] = [];
  let waiting: Array<(connection: FakeConnection) => void> = [];
  let handedOut = 0;
  const handOut = (): void => {
    while (waiting.length > 0 && handedOut < connections.length) waiting.shift()!(connections[handedOut++]!);
  };

  wss.on("connection", (socket) => {
    const decoder = new FrameDecoder({ maxPayload: 16 * 1024 * 1024 });
    let connection: FakeConnection | undefined;
    socket.on("message", (data: Buffer) => {
      for (const frame of decoder.push(new Uint8Array(data))) {
        // A resume-capable engine sends RESUME with its HELLO; this server has resume off (RESUMED below).
        if (frame.channel === Channel.CONTROL && frame.type === ControlType.RESUME) continue;
        if (connection !== undefined) {
          connection.received(frame);
          continue;
        }
        if (frame.channel !== Channel.CONTROL || frame.type !== ControlType.HELLO) continue;
        const virtualIp = identityIp(connections.length);
        connection = new FakeConnection(socket, Hello.decode(frame.payload), virtualIp);
        const welcome = Welcome.encode({
          version: PROTOCOL_VERSION,
          virtualIp,
          sessionId: `fake-${connections.length}`,
          heartbeatIntervalMs: 60_000,
          heartbeatTimeoutMs: 60_000,
          tickRate: 0,
          maxFrameSize: 256 * 1024,
          serverTime: Date.now(),
        });
        socket.send(encodeFrame(Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL, welcome));
        // As a server with resumeWindowMs 0 answers: no resumable session, a drop ends everything.
        socket.send(encodeFrame(Channel.CONTROL, ControlType.RESUMED, Priority.CRITICAL, Resumed.encode({ resumed: false, received: 0, resumeWindowMs: 0 })));
        connections.push(connection);
        handOut();
      }
    });
    socket.on("close", () => {
      if (connection !== undefined) connection.closed = true;
    });
  });

  const address = wss.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    connections,
    nextConnection(timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = waiting.filter((waiter) => waiter !== take);
          reject(new Error(`no connection within ${timeoutMs} ms`));
        }, timeoutMs);
        const take = (connection: FakeConnection): void => {
          clearTimeout(timer);
          resolve(connection);
        };
        waiting.push(take);
        handOut();
      });
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
