/**
 * A Connection and its ClientSession with nothing real around them (connection.test.ts,
 * client-session.test.ts): a fake WebSocket that records what is sent and lets a test deliver
 * messages, drop the link or pause reading, a manual clock, and a server context that records
 * what the services hear.
 */
import { EventEmitter } from "node:events";
import { Channel, ControlType, FrameDecoder, Hello, PROTOCOL_VERSION, Priority, Resume, encodeFrame } from "@gmnet/protocol";
import type { WebSocket } from "ws";
import { type ServerConfig, defaultConfig } from "../../src/config.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { Router } from "../../src/router.js";
import type { ServerClock, ServerContext } from "../../src/server-context.js";
import { Directory } from "../../src/services/directory.js";
import { ClientSession } from "../../src/session/client-session.js";
import { Connection } from "../../src/session/connection.js";
import { FlushScheduler } from "../../src/session/flush-scheduler.js";
import type { Session, SessionCloseCause } from "../../src/session/session.js";
import type { Identity, Storage } from "../../src/storage/storage.js";
import { metricValue } from "./harness.js";

export const decode = (message: Uint8Array) => new FrameDecoder({ maxPayload: 1 << 24 }).push(message);

export class FakeSocket extends EventEmitter {
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  closedWith: [number, string] | undefined;
  terminated = false;
  isPaused = false;
  /** Every pause() and resume(), in order. */
  readonly flow: Array<"pause" | "resume"> = [];
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  terminate(): void {
    this.terminated = true;
  }
  pause(): void {
    this.isPaused = true;
    this.flow.push("pause");
  }
  resume(): void {
    this.isPaused = false;
    this.flow.push("resume");
  }
  /** What a client sends: one message of frames. */
  receive(...frames: Uint8Array[]): void {
    this.emit("message", Buffer.concat(frames), true);
  }
  /** The TCP connection ended without a close frame, as ws reports it. */
  drop(): void {
    this.emit("close", 1006);
  }
  /** Every message sent so far, decoded into [channel, type, priority] triples. */
  messages(): Array<Array<[number, number, number]>> {
    return this.sent.map((message) => decode(message).map((f) => [f.channel, f.type, f.priority]));
  }
}

export class ManualClock implements ServerClock {
  time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

/** The end of the current event-loop turn, when the default (tickRate 0) flushes run. */
export const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const helloFrame = (): Uint8Array =>
  encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: "unit", secret: "s".repeat(22), token: "" }));
export const resumeFrame = (sessionId: string, received: number): Uint8Array =>
  encodeFrame(Channel.CONTROL, ControlType.RESUME, Priority.CRITICAL, Resume.encode({ sessionId, received }));

/** Lets pending promise callbacks run (the storage's answer to a Hello), without ending the turn. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

export function setup(overrides: Partial<ServerConfig> = {}, identify: (appKey: string, secret: string) => Promise<Identity> = async () => ({ identityId: 1, virtualIp: 0x0a000001 })) {
  const config: ServerConfig = { ...defaultConfig, tickRate: 20, ...overrides };
  const clock = new ManualClock();
  const ws = new FakeSocket();
  const router = new Router();
  const closes: Array<[Session, SessionCloseCause]> = [];
  const opened: Session[] = [];
  const moving: Array<[Session, number]> = [];
  const resumed: Session[] = [];
  const sessions = new Map<string, ClientSession>();
  const metrics = createMetrics({ defaultMetrics: false });
  const context: ServerContext = {
    config,
    clock,
    random: Math.random,
    logger: createLogger("silent"),
    metrics,
    router,
    directory: new Directory(),
    storage: { identities: { identify: (...args: [string, string]) => identify(...args) } } as unknown as Storage,
    flushes: new FlushScheduler(config, clock),
    sessions,
    sessionOpened: (session) => {
      opened.push(session);
      if (session instanceof ClientSession) sessions.set(session.id, session);
      return undefined;
    },
    sessionClosed: (session, cause) => {
      closes.push([session, cause]);
      sessions.delete(session.id);
    },
    sessionMoving: (session) => moving.push([session, session.virtualIp]),
    sessionResumed: (session) => resumed.push(session),
    sessionMovedIn: () => undefined,
    sessionLog: undefined,
  };
  const connection = new Connection(ws as unknown as WebSocket, context);
  /** HELLO on `socket` (default: the first one), with RESUME in the same message when given. */
  const hello = async (socket = ws, resume?: { sessionId: string; received: number }): Promise<void> => {
    socket.receive(helloFrame(), ...(resume === undefined ? [] : [resumeFrame(resume.sessionId, resume.received)]));
    await settle();
  };
  /** Another connection to the same server context (a reconnecting client). */
  const connect = () => {
    const socket = new FakeSocket();
    return { socket, connection: new Connection(socket as unknown as WebSocket, context) };
  };
  const session = (): ClientSession => connection.session!;
  const metric = async (name: string, labels?: Record<string, string>) => metricValue(await metrics.registry.metrics(), name, labels);
  return { config, clock, ws, router, closes, opened, moving, resumed, sessions, metrics, metric, context, connection, session, hello, connect };
}
