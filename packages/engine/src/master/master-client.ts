/**
 * The master services over the engine's signaling connection (Channel.MASTER, PROTOCOL.md
 * §16.1): REQUEST frames out with our own u32 reqIds, RESPONSE frames matched back to the
 * request, EVENT frames pushed by the server. Every request ends in exactly one
 * master_type_response event on ev_async_social: the server's answer, or one made here —
 * TIMEOUT when no answer came within the timeout (a late answer is then dropped), NOT_CONNECTED
 * when the connection could not be opened or ended while the request waited.
 */
import { ev_async_social } from "../events/async-events.js";
import type { NetworkRuntime } from "../network/runtime.js";
import { CHAT_CHANNELS, Channel, MasterEvent, MasterEventMessage, MasterRequest, MasterResponse, MasterStatus, MasterType } from "@gmnet/protocol";
import type { EngineContext } from "../runtime/context.js";
import {
  master_type_chat,
  master_type_party_invite,
  master_type_party_update,
  master_type_presence,
  master_type_response,
  master_type_room_closed,
  master_type_room_update,
  master_type_session,
  master_type_world_update,
} from "./constants.js";
import { bodyKeys, isPlainObject, parseBody } from "./load.js";
import { MasterState } from "./state.js";

export const DEFAULT_MASTER_TIMEOUT_MS = 10_000;

/** async_load[? "type"] for each MasterEvent. */
const EVENT_TYPES: ReadonlyMap<number, number> = new Map([
  [MasterEvent.SESSION, master_type_session],
  [MasterEvent.CHAT, master_type_chat],
  [MasterEvent.PARTY_INVITE, master_type_party_invite],
  [MasterEvent.PARTY_UPDATE, master_type_party_update],
  [MasterEvent.ROOM_UPDATE, master_type_room_update],
  [MasterEvent.ROOM_CLOSED, master_type_room_closed],
  [MasterEvent.PRESENCE, master_type_presence],
  [MasterEvent.WORLD_UPDATE, master_type_world_update],
]);

/**
 * The error code of a failed response whose body names none (a server bug, or an older server):
 * the code that always comes with its status (§16.2), else the status's name ("unauthorized").
 */
function statusError(status: number): string {
  if (status === MasterStatus.ERROR) return "internal";
  if (status === MasterStatus.INVALID) return "invalid_body";
  const name = Object.entries(MasterStatus).find(([, value]) => value === status)?.[0];
  return name === undefined ? `status_${status}` : name.toLowerCase();
}

/** reqId u32 + op u16 in front of the body. */
const REQUEST_HEADER_BYTES = 6;

interface PendingRequest {
  /** The request id master_* returned (the engine's shared async id counter). */
  readonly id: number;
  readonly op: number;
  readonly body: Uint8Array;
  /** Our wire reqId once sent, 0 before. */
  reqId: number;
  timer: unknown;
  done: boolean;
}

export class MasterClient {
  /** Client-side limit per request in ms (master_set_timeout); 0 waits for the server however long. */
  timeoutMs = DEFAULT_MASTER_TIMEOUT_MS;
  readonly state: MasterState;

  /** Sent requests by wire reqId. */
  private readonly pending = new Map<number, PendingRequest>();
  private nextReqId = 0;

  constructor(
    private readonly context: EngineContext,
    private readonly net: NetworkRuntime,
  ) {
    this.state = new MasterState((token) => {
      net.signaling.options.token = token;
    });
    net.signaling.on(Channel.MASTER, MasterType.RESPONSE, (payload) => this.onResponse(payload));
    net.signaling.on(Channel.MASTER, MasterType.EVENT, (payload) => this.onEvent(payload));
    net.onConnectionLost((problem) => this.connectionLost(problem.message));
    // A login is worth a reconnect: the next HELLO carries the token and the server resumes it.
    net.addNeed(() => this.state.login !== undefined);
  }

  /** Starts a request (opening the connection if needed) and returns its request id. */
  request(op: number, body: Uint8Array): number {
    const request: PendingRequest = { id: this.context.nextRequestId(), op, body, reqId: 0, timer: undefined, done: false };
    const timeoutMs = this.timeoutMs;
    if (timeoutMs > 0) {
      request.timer = this.context.clock.setTimeout(() => this.finish(request, MasterStatus.TIMEOUT, "timeout", `no answer within ${timeoutMs} ms`), timeoutMs);
    }
    this.net.whenOnline(
      () => this.send(request),
      (problem) => this.finish(request, MasterStatus.NOT_CONNECTED, "not_connected", problem.message),
    );
    return request.id;
  }

  private send(request: PendingRequest): void {
    if (request.done) return;
    // A frame over the server's limit would be a protocol error that costs the whole connection.
    const maxFrame = this.net.signaling.welcome?.maxFrameSize ?? Infinity;
    if (request.body.length + REQUEST_HEADER_BYTES > maxFrame) {
      return this.finish(request, MasterStatus.INVALID, "invalid_body", `the body has ${request.body.length} bytes; a frame carries at most ${maxFrame - REQUEST_HEADER_BYTES}`);
    }
    const reqId = this.allocateReqId();
    const payload = MasterRequest.encode({ reqId, op: request.op, body: request.body });
    if (!this.net.signaling.send(Channel.MASTER, MasterType.REQUEST, payload)) {
      return this.finish(request, MasterStatus.NOT_CONNECTED, "not_connected", "not connected to the server");
    }
    request.reqId = reqId;
    this.pending.set(reqId, request);
  }

  private allocateReqId(): number {
    do this.nextReqId = this.nextReqId >= 0xffffffff ? 1 : this.nextReqId + 1;
    while (this.pending.has(this.nextReqId));
    return this.nextReqId;
  }

  private onResponse(payload: Uint8Array): void {
    const { reqId, status, body } = MasterResponse.decode(payload);
    const request = this.pending.get(reqId);
    if (request === undefined) return; // timed out already, or from before a reconnect
    const parsed = parseBody(body);
    // The state first, so the getters are up to date inside the event's handler.
    this.state.response(request.op, status, parsed);
    const fields = isPlainObject(parsed) ? parsed : {};
    const succeeded = status === MasterStatus.SUCCESS;
    const error = succeeded ? "" : typeof fields.error === "string" ? fields.error : statusError(status);
    const message = succeeded ? "" : typeof fields.message === "string" ? fields.message : "";
    this.finish(request, status, error, message, bodyKeys(parsed));
  }

  private onEvent(payload: Uint8Array): void {
    const { event, body } = MasterEventMessage.decode(payload);
    const type = EVENT_TYPES.get(event);
    if (type === undefined) return; // an event a newer server knows and this engine does not
    const parsed = parseBody(body);
    this.state.event(event, parsed);
    const load: Record<string, unknown> = { ...bodyKeys(parsed), type, id: -1 };
    if (event === MasterEvent.CHAT) load.channel = (CHAT_CHANNELS as readonly unknown[]).indexOf(load.channel);
    this.context.events.push(ev_async_social, load);
  }

  /** Ends a request with one response event; later outcomes of the same request are ignored. */
  private finish(request: PendingRequest, status: number, error: string, message: string, keys: Record<string, unknown> = {}): void {
    if (request.done) return;
    request.done = true;
    if (request.timer !== undefined) this.context.clock.clearTimeout(request.timer);
    if (request.reqId !== 0) this.pending.delete(request.reqId);
    this.context.events.push(ev_async_social, {
      ...keys,
      type: master_type_response,
      id: request.id,
      op: request.op,
      status,
      succeeded: status === MasterStatus.SUCCESS,
      error,
      message,
    });
  }

  /** The connection ended: nothing sent on it will be answered. */
  private connectionLost(why: string): void {
    this.state.connectionLost();
    const requests = [...this.pending.values()];
    for (const request of requests) this.finish(request, MasterStatus.NOT_CONNECTED, "not_connected", `the connection to the server ended: ${why}`);
  }
}
