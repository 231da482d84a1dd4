/**
 * A resumable session kept in Redis (--durable-sessions with --redis; PROTOCOL.md §15 "Durable
 * sessions"), so its client can resume it on any node. What differs from ClientSession:
 *
 * - every sequenced frame for the client is appended to the session's log (cluster/session-log.ts),
 *   which numbers it, and goes to the client when the log's hint comes back (`logged`), in log
 *   order — in one lane, since the client numbers frames by arrival;
 * - a client frame is acknowledged once its effects and its count are written (`committed`), not
 *   when it arrives;
 * - the client's ACKs trim the log; the session's end removes its record, unless another node has
 *   it now (`movedAway`, `handOver`), which ends nothing.
 *
 * A session taken over from another node starts from its record (`restored`): the same id,
 * counters and address, and a replay buffer holding what the client has not received yet.
 */
import { CloseCode, Priority, isSequenced } from "@gmnet/protocol";
import type { LogListener, SessionLog, TakenSession } from "../cluster/session-log.js";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../storage/storage.js";
import { ClientSession } from "./client-session.js";
import type { SessionLink } from "./session-link.js";

/** A durable session taken over from another node: what its record and log said (connection.ts). */
export interface RestoredSession {
  readonly id: string;
  readonly taken: TakenSession;
  /** How many of the log's frames the client said it received (u32). */
  readonly clientReceived: number;
}

export class DurableClientSession extends ClientSession implements LogListener {
  /** Client frames whose effects are in Redis: what may be acknowledged. */
  private committedCount = 0;
  /** The next log number to send the client. */
  private nextLogged = 1;
  /** The absolute log number of the last frame handed to the client (the replay buffer counts in u32). */
  private lastSentLogged = 0;
  /** It holds something a move to another node cannot carry (pin). */
  private pinned = false;

  constructor(context: ServerContext, link: SessionLink, appKey: string, deviceIdentity: Identity, helloToken: string, private readonly log: SessionLog, restored?: RestoredSession) {
    super(context, link, appKey, deviceIdentity, helloToken, true, restored?.id);
    if (restored === undefined) {
      const device = { identityId: deviceIdentity.identityId, virtualIp: deviceIdentity.virtualIp };
      log.open(this.id, appKey, { identityId: this.identityId, virtualIp: this.virtualIp, device, helloToken }, this);
      return;
    }
    const { taken, clientReceived } = restored;
    this.identityId = taken.meta.identityId;
    this.virtualIp = taken.meta.virtualIp;
    this.received = this.committedCount = this.acknowledged = taken.received;
    this.nextLogged = taken.out + 1;
    // The replay buffer starts where the client is, holding what it has not received yet.
    this.replay!.sent = clientReceived >>> 0;
    for (const frame of taken.frames) this.replay!.record(frame);
    this.lastSentLogged = taken.out;
    log.adopt(this.id, this);
  }

  override get durable(): boolean {
    return true;
  }

  protected override route(frame: Uint8Array, channel: number, type: number, priority: number): void {
    // Numbered by the log, and sent when its hint comes back (logged).
    if (isSequenced(channel, type)) return this.log.append(this.id, frame);
    this.deliver(frame, priority);
  }

  protected override get acknowledgeable(): number {
    return this.committedCount;
  }

  protected override counted(): void {
    this.log.received(this.id, this.received);
  }

  protected override recorded(): void {
    this.lastSentLogged++;
  }

  override acknowledgedByClient(received: number): void {
    const replay = this.replay!;
    const before = replay.length;
    replay.acknowledge(received);
    // The log forgets them too, by the absolute number of the last frame the client has.
    if (replay.length < before) this.log.trim(this.id, this.lastSentLogged - ((replay.sent - received) >>> 0));
  }

  // ------------------------------------------------------------------ what the log says (LogListener)

  logged(first: number, frames: readonly Uint8Array[]): void {
    if (this.closed) return;
    for (let i = 0; i < frames.length; i++) {
      const n = first + i;
      if (n < this.nextLogged) continue; // replayed at the take-over already
      if (n > this.nextLogged) this.context.logger.error({ session: this.id, expected: this.nextLogged, got: n }, "durable session: a gap in the log's hints");
      this.nextLogged = n + 1;
      // One lane for every logged frame, so they leave in log order: the client numbers them by arrival.
      this.deliver(frames[i]!, Priority.HIGH);
    }
  }

  committed(count: number): void {
    if (this.closed) return;
    this.committedCount = count;
    if (this.link !== undefined && this.committedCount !== this.acknowledged) this.acknowledgeSoon();
  }

  full(): void {
    this.end("not-recovered", true);
  }

  lost(): void {
    this.end("not-recovered", true);
  }

  /** Another node took the session over: this copy goes quietly (the services keep the peers' side; see streams.ts). */
  movedAway(): void {
    if (!this.closed) this.letGo((link) => link.cutSocket("replaced"));
  }

  // ------------------------------------------------------------------ moving to another node, or not

  override pin(reason: string): void {
    if (this.closed) return;
    this.pinned = true;
    this.log.pin(this.id, reason);
  }

  /**
   * The server stops: a durable session that holds nothing a move cannot carry stays in Redis for
   * another node, and its client is told to resume it there (close 4008 HANDOVER). false: pinned.
   */
  override handOver(): boolean {
    if (this.pinned || this.closed) return false;
    this.flush();
    this.letGo((link) => link.closeSocket(CloseCode.HANDOVER, "server stopping; resume this session on another node"));
    return true;
  }

  /**
   * This node's copy goes, its connection ended by `endLink` (after it is detached from the
   * session, so the connection's end is not taken for the session's); the record stays for the
   * node that has the session now, or will.
   */
  private letGo(endLink: (link: SessionLink) => void): void {
    const link = this.link;
    this.link = undefined;
    if (link !== undefined) endLink(link);
    this.closeCause = "moved";
    this.log.forget(this.id);
    this.leave();
  }

  protected override ended(): void {
    // Over for good: its record goes (a session that moved away is another node's now).
    if (this.closeCause !== "moved") this.log.end(this.id);
  }
}
