/**
 * A master-services client for server tests (PROTOCOL.md §16): REQUEST frames out, RESPONSE
 * frames matched to their reqId, EVENT frames kept in arrival order and taken by kind — so a
 * test awaits what it expects instead of sleeping.
 */
import {
  Channel,
  ControlType,
  Hello,
  MasterEvent,
  MasterEventMessage,
  MasterOp,
  MasterRequest,
  MasterResponse,
  MasterType,
  PROTOCOL_VERSION,
  VSocketType,
  VirtualIp,
  Welcome,
} from "@gmnet/protocol";
import { expect } from "vitest";
import type { GmnetServer } from "../../src/index.js";
import { type ClientOptions, ProtocolClient } from "./protocol-client.js";

export type Json = Record<string, unknown>;

export interface MasterReply {
  status: number;
  body: Json;
}

export interface ReceivedEvent {
  event: number;
  body: Json;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

let counter = 0;
/** An app key no other test uses, so global chat and presence see only this test's clients. */
export function uniqueAppKey(prefix = "app"): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The Session body (PROTOCOL.md §16.3) of a fresh login to an account without a selected character,
 * as a matcher: the same over the WebSocket and over HTTP.
 */
export function freshSession(accountId: unknown, username: string): Json {
  return {
    accountId,
    username,
    guest: false,
    token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    expiresInMs: expect.any(Number),
    ip: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
    characterId: 0,
    character: "",
  };
}

export class MasterClient {
  private nextReqId = 1;
  private readonly responses = new Map<number, MasterReply>();
  private readonly events: ReceivedEvent[] = [];
  /** Set by guest(): the Session body, its user name and account id. */
  session: Json = {};
  username = "";
  accountId = 0;

  constructor(
    readonly client: ProtocolClient & { welcome: { virtualIp: number } },
    readonly appKey: string,
  ) {}

  static async connect(server: GmnetServer, options: ClientOptions = {}): Promise<MasterClient> {
    return new MasterClient(await ProtocolClient.connect(server.address().wsUrl, options), options.appKey ?? "test-app");
  }

  /** Connects with a session token in the HELLO. */
  static async connectWithToken(server: GmnetServer, appKey: string, token: string): Promise<MasterClient> {
    const client = new ProtocolClient(server.address().wsUrl);
    await client.opened();
    client.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: PROTOCOL_VERSION, appKey, secret: client.secret, token }));
    const welcome = Welcome.decode((await client.next(Channel.CONTROL, ControlType.WELCOME)).payload);
    return new MasterClient(Object.assign(client, { welcome }), appKey);
  }

  /** Sends a request without waiting; returns its reqId (for reply()). */
  send(op: number, body: Json | string = {}): number {
    const reqId = this.nextReqId++;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    this.client.send(Channel.MASTER, MasterType.REQUEST, MasterRequest.encode({ reqId, op, body: utf8.encode(text) }));
    return reqId;
  }

  /** The response to `reqId`, whatever order responses arrive in. */
  async reply(reqId: number, timeoutMs?: number): Promise<MasterReply> {
    for (;;) {
      const stashed = this.responses.get(reqId);
      if (stashed !== undefined) {
        this.responses.delete(reqId);
        return stashed;
      }
      const response = MasterResponse.decode((await this.client.next(Channel.MASTER, MasterType.RESPONSE, timeoutMs)).payload);
      this.responses.set(response.reqId, { status: response.status, body: JSON.parse(fromUtf8.decode(response.body)) as Json });
    }
  }

  async request(op: number, body: Json | string = {}): Promise<MasterReply> {
    return this.reply(this.send(op, body));
  }

  /** Like request, but fails the test unless the answer is SUCCESS; returns the body. */
  async must(op: number, body: Json = {}): Promise<Json> {
    const reply = await this.request(op, body);
    if (reply.status !== 1) throw new Error(`op ${op} failed with status ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  }

  /** The oldest not-yet-taken event of kind `event` (waiting for it if need be). */
  async nextEvent(event: number, timeoutMs?: number): Promise<Json> {
    for (;;) {
      const index = this.events.findIndex((received) => received.event === event);
      if (index >= 0) return this.events.splice(index, 1)[0]!.body;
      const frame = MasterEventMessage.decode((await this.client.next(Channel.MASTER, MasterType.EVENT, timeoutMs)).payload);
      this.events.push({ event: frame.event, body: JSON.parse(fromUtf8.decode(frame.body)) as Json });
    }
  }

  /** Events received so far and not yet taken, of kind `event` (all kinds when omitted); does not wait. */
  received(event?: number): ReceivedEvent[] {
    for (;;) {
      const index = this.client.frames.findIndex((frame) => frame.channel === Channel.MASTER && frame.type === MasterType.EVENT);
      if (index < 0) break;
      const frame = MasterEventMessage.decode(this.client.frames.splice(index, 1)[0]!.payload);
      this.events.push({ event: frame.event, body: JSON.parse(fromUtf8.decode(frame.body)) as Json });
    }
    return this.events.filter((received) => event === undefined || received.event === event);
  }

  /** Logs in as a new guest; remembers the name and account id. */
  async guest(): Promise<Json> {
    const session = await this.must(MasterOp.LOGIN_GUEST);
    this.session = session;
    this.username = session.username as string;
    this.accountId = session.accountId as number;
    return session;
  }

  close(): void {
    this.client.close();
  }
}

/** The address in the next VIRTUAL_IP the client was sent (a login or logout moves the connection). */
export async function nextVirtualIp(client: MasterClient, timeoutMs?: number): Promise<number> {
  return (await client.client.nextMessage(Channel.VSOCKET, VSocketType.VIRTUAL_IP, VirtualIp, timeoutMs)).ip;
}

/** `count` clients of one app key, each logged in as a guest. */
export async function guests(server: GmnetServer, appKey: string, count: number): Promise<MasterClient[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = await MasterClient.connect(server, { appKey });
      await client.guest();
      return client;
    }),
  );
}

export { MasterEvent, MasterOp };
