/**
 * A client's session: who it is (app key, identity, virtual IP), what it is owed (the outgoing
 * queue) and, when the client asked for a resumable session (PROTOCOL.md §14), what it may need
 * again (the replay buffer) and how many of its own frames arrived.
 *
 * The session outlives its WebSocket. When a resumable connection drops without a close
 * handshake, the session is *detached* for resumeWindowMs: services notice nothing, frames for
 * it queue up within the replay bounds (datagrams are dropped, as UDP's would be), and a RESUME
 * on a new connection attaches it again and replays what the client missed. Services key their
 * state by this object, so everything they hold — streams, UDP bindings, host name, app
 * channels, master login, room, party — survives the blip untouched.
 */
import { randomBytes } from "node:crypto";
import {
  AckPolicy,
  Channel,
  CloseCode,
  ControlType,
  ErrorMessage,
  Priority,
  ProtocolError,
  ReplayBuffer,
  VSocketType,
  VirtualIp,
  concatFrames,
  encodeAckFrame,
  encodeFrame,
  isSequenced,
  isSequencedFrame,
  nameOf,
} from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../storage/storage.js";
import { ALL_LANES, type LaneMask, OutgoingQueue } from "./outgoing-queue.js";
import { sessionCauseOf } from "./close-codes.js";
import type { Session, SessionCloseCause } from "./session.js";
import type { SessionLink } from "./session-link.js";

/** While a client is above maxQueuedBytes, how often to look whether it drained. */
const SLOW_CHECK_MS = 250;

type State = "open" | "detached" | "closed";

export class ClientSession implements Session {
  readonly id: string;
  identityId: number;
  virtualIp: number;
  remoteAddress: string;
  /** The most bytes this session held for replay at once (sent and unacknowledged, plus queued while detached). */
  peakReplayBytes = 0;
  private state: State = "open";
  protected link: SessionLink | undefined;
  private readonly queue = new OutgoingQueue();
  protected readonly replay: ReplayBuffer | undefined;
  /** Sequenced frames received from the client, and the count last acknowledged to it. */
  protected received = 0;
  protected acknowledged = 0;
  private ackTimer: unknown;
  private detachTimer: unknown;
  private slowTimer: unknown;
  private slowSince = 0;
  protected closeCause: SessionCloseCause = "closed";

  constructor(
    protected readonly context: ServerContext,
    link: SessionLink,
    readonly appKey: string,
    readonly deviceIdentity: Identity,
    /** The master session token the Hello carried ("" for none). */
    readonly helloToken: string,
    resumable: boolean,
    /** Its id: a new random one, or the id of a durable session taken over from another node. */
    id = randomBytes(12).toString("base64url"),
  ) {
    this.id = id;
    this.link = link;
    this.remoteAddress = link.remoteAddress;
    this.identityId = deviceIdentity.identityId;
    this.virtualIp = deviceIdentity.virtualIp;
    this.replay = resumable ? new ReplayBuffer(context.config.replayBytesPerSession) : undefined;
  }

  /** Kept in Redis (DurableClientSession); this one lives in this process only. */
  get durable(): boolean {
    return false;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  get detached(): boolean {
    return this.state === "detached";
  }

  get resumable(): boolean {
    return this.replay !== undefined;
  }

  /** Sequenced frames received from the client so far (RESUMED tells the client this number). */
  get receivedCount(): number {
    return this.received;
  }

  /** Bytes held for a possible replay: sent and unacknowledged, plus everything queued while detached. */
  get replayBytes(): number {
    return this.replay === undefined ? 0 : this.replay.bytes + (this.state === "detached" ? this.queue.bytes : 0);
  }

  /** Bytes queued for this client and not yet taken by it (our queue plus the socket's buffer). */
  get backlogBytes(): number {
    return this.queue.bytes + (this.link?.bufferedAmount ?? 0);
  }

  // ------------------------------------------------------------------ sending

  send(channel: number, type: number, priority: number, payload: Uint8Array): void {
    if (this.state === "closed") return;
    // A Buffer of its own (never a slice of the shared pool, which a held frame would pin).
    const frame = encodeFrame(channel, type, priority, payload, 0, Buffer.allocUnsafeSlow);
    this.route(frame, channel, type, priority);
  }

  /** Where a frame for the client goes: to the client (a durable session logs its sequenced frames first). */
  protected route(frame: Uint8Array, _channel: number, _type: number, priority: number): void {
    this.deliver(frame, priority);
  }

  /** A frame for this client now: queued (or held while it is away) with the backlog rules. */
  protected deliver(frame: Uint8Array, priority: number): void {
    const { config, metrics } = this.context;
    if (this.link === undefined) return this.hold(frame, priority);
    // Everything this client has not taken yet: our queue plus what ws could not hand to the kernel.
    const backlog = this.queue.bytes + this.link.bufferedAmount + frame.length;
    if (priority === Priority.LOW && backlog > config.maxQueuedBytes / 2) {
      // Datagrams are unreliable by contract: under pressure they go first, streams never do.
      metrics.drops.inc({ reason: "backpressure" });
      return;
    }
    if (backlog > config.maxQueuedBytes) {
      // A burst may pass the bound for a moment; a reader that stays above it is cut off
      // (watchBacklog), and nothing may ever pass four times the bound, so memory stays bounded.
      if (backlog > 4 * config.maxQueuedBytes) return this.end("slow-consumer", true);
      this.watchBacklog();
    }
    metrics.framesSent.inc();
    if (priority === Priority.CRITICAL || !config.batching) return this.transmit([frame]);
    this.queue.push(frame, priority);
    this.context.flushes.schedule(this, priority);
  }

  sendError(code: number, channel: number, type: number, refId: number, message: string): void {
    this.context.metrics.protocolErrors.inc({ code: nameOf(ProtocolError, code) });
    this.send(Channel.CONTROL, ControlType.ERROR, Priority.CRITICAL, ErrorMessage.encode({ code, refChannel: channel, refType: type, refId, message }));
  }

  /**
   * Sends the queued frames of the lanes in `mask` as one WebSocket message (FlushScheduler calls
   * this), with an ACK when one is due.
   */
  flush(mask: LaneMask = ALL_LANES): void {
    if (this.link === undefined) return;
    const frames: Uint8Array[] = [];
    if (!this.queue.empty) this.queue.takeInto(frames, mask);
    if (frames.length > 0 || this.ackDue) this.transmit(frames);
  }

  /** Enough received frames are unacknowledged that an ACK goes out at the next flush even if nothing else does. */
  private get ackDue(): boolean {
    return ((this.acknowledgeable - this.acknowledged) >>> 0) >= AckPolicy.EVERY_FRAMES;
  }

  /** What an ACK may say: the client frames received (a durable session: those whose effects are in Redis). */
  protected get acknowledgeable(): number {
    return this.received;
  }

  /** An ACK at the next flush once enough are due, else when the timer (armed at most once per AckPolicy.DELAY_MS) finds some. */
  protected acknowledgeSoon(): void {
    if (this.ackDue) this.context.flushes.schedule(this, Priority.HIGH);
    else if (this.ackTimer === undefined) this.ackTimer = this.context.clock.setTimeout(() => this.acknowledgeNow(), AckPolicy.DELAY_MS);
  }

  /** Only a durable session cares (DurableClientSession: its record says so, and a stopping node hands it over). */
  pin(_reason: string): void {}
  handOver(): boolean {
    return false;
  }

  /** A frame for a client that is away: kept for it within the session's replay bound, datagrams excepted. */
  private hold(frame: Uint8Array, priority: number): void {
    if (priority === Priority.LOW) {
      this.context.metrics.drops.inc({ reason: "detached" });
      return;
    }
    this.queue.push(frame, priority === Priority.CRITICAL ? Priority.HIGH : priority);
    const held = this.replayBytes;
    // Past the bound the session ends: what it never got to hold is no peak.
    if (held > this.context.config.replayBytesPerSession) return this.end("not-recovered", true);
    if (held > this.peakReplayBytes) this.peakReplayBytes = held;
  }

  private transmit(frames: Uint8Array[]): void {
    const replay = this.replay;
    if (replay !== undefined) {
      for (const frame of frames) {
        if (!isSequencedFrame(frame)) continue;
        replay.record(frame);
        this.recorded();
      }
      if (replay.bytes > this.peakReplayBytes) this.peakReplayBytes = replay.bytes;
      // Piggyback the acknowledgement on a batch once a few frames are due (the timer takes care
      // of a trickle, so a ping-pong does not pay for an ACK in every message).
      if (((this.acknowledgeable - this.acknowledged) >>> 0) >= AckPolicy.PIGGYBACK_FRAMES) {
        this.acknowledged = this.acknowledgeable;
        frames.push(encodeAckFrame(this.acknowledged));
      }
    }
    this.emit(frames.length === 1 ? frames[0]! : concatFrames(frames));
  }

  /** A sequenced frame went out and into the replay buffer. */
  protected recorded(): void {}

  /** Hands one WebSocket message to the attached connection, counted. */
  private emit(message: Uint8Array): void {
    this.context.metrics.messagesSent.inc();
    this.context.metrics.bytesSent.inc(message.length);
    this.link!.transmit(message);
  }

  private watchBacklog(): void {
    if (this.slowTimer !== undefined) return;
    const { clock, config } = this.context;
    this.slowSince = clock.now();
    const check = (): void => {
      this.slowTimer = undefined;
      if (this.link === undefined) return;
      if (this.queue.bytes + this.link.bufferedAmount <= config.maxQueuedBytes) return;
      if (clock.now() - this.slowSince >= config.slowConsumerMs) return this.end("slow-consumer", false);
      this.slowTimer = clock.setTimeout(check, Math.min(SLOW_CHECK_MS, config.slowConsumerMs));
    };
    this.slowTimer = clock.setTimeout(check, Math.min(SLOW_CHECK_MS, config.slowConsumerMs));
  }

  // ------------------------------------------------------------------ receiving (from the connection)

  /**
   * The client sent a frame on this session: count it if sequenced. The ACK rides on the next
   * batch; with nothing to send it goes at the end of the turn once AckPolicy.EVERY_FRAMES are due, or
   * when the timer (armed at most once per AckPolicy.DELAY_MS, never per frame) finds some unacknowledged.
   */
  countReceived(channel: number, type: number): void {
    if (this.replay === undefined || !isSequenced(channel, type)) return;
    this.received = (this.received + 1) >>> 0;
    this.counted();
  }

  /** A client frame was counted: it may be acknowledged (a durable session waits until its effects are written). */
  protected counted(): void {
    this.acknowledgeSoon();
  }

  /** The client acknowledged our frames up to `received`. */
  acknowledgedByClient(received: number): void {
    this.replay?.acknowledge(received);
  }

  private acknowledgeNow(): void {
    this.ackTimer = undefined;
    if (this.link === undefined || this.acknowledgeable === this.acknowledged) return;
    this.acknowledged = this.acknowledgeable;
    this.emit(encodeAckFrame(this.acknowledged));
  }

  // ------------------------------------------------------------------ attach, detach, resume

  /** Whether a client that received `received` of our frames can resume here (nothing it needs was evicted). */
  canResume(received: number): boolean {
    return this.state !== "closed" && this.replay?.since(received) !== undefined;
  }

  /**
   * Attaches a new connection after WELCOME and RESUMED went out on it: an old connection still
   * attached (the drop was noticed late) is cut, and the client gets what it missed, then the queue.
   */
  attach(link: SessionLink, received: number): void {
    const missing = this.replay!.since(received)!;
    const old = this.link;
    this.link = link;
    this.remoteAddress = link.remoteAddress;
    if (old !== undefined && old !== link) old.cutSocket("replaced");
    if (this.state === "detached") {
      this.context.clock.clearTimeout(this.detachTimer);
      this.context.metrics.sessionsDetached.dec();
    }
    this.state = "open";
    this.replay!.acknowledge(received);
    // Retransmitted as they were: they keep their numbers and stay in the buffer until acknowledged.
    if (missing.length > 0) this.emit(concatFrames(missing));
    this.flush();
    this.context.sessionResumed(this);
  }

  /**
   * The connection `link` ended. A resumable session whose connection dropped without a close
   * handshake waits for its client to come back; any other ends now.
   */
  linkEnded(link: SessionLink, abnormal: boolean, cause: SessionCloseCause): void {
    if (link !== this.link || this.state === "closed") return; // an old connection a resume replaced
    this.link = undefined;
    const { clock, config, metrics } = this.context;
    if (!abnormal || this.replay === undefined || config.resumeWindowMs === 0) {
      this.closeCause = cause;
      return this.leave();
    }
    this.state = "detached";
    metrics.sessionsDetached.inc();
    this.queue.clearLane(Priority.LOW);
    for (const timer of [this.ackTimer, this.slowTimer]) clock.clearTimeout(timer);
    this.ackTimer = this.slowTimer = undefined;
    this.detachTimer = clock.setTimeout(() => this.end("not-recovered", false), config.resumeWindowMs);
  }

  // ------------------------------------------------------------------ moving and ending

  holdFramesUntil(settled: Promise<unknown>): void {
    this.link?.holdUntil(settled);
  }

  moveTo(identity: Identity): void {
    if (this.state === "closed") return;
    // A master login (or logout) stays with the master home's view of this node's session.
    this.pin("login");
    const { directory } = this.context;
    if (identity.virtualIp === this.virtualIp) {
      this.identityId = identity.identityId;
      return;
    }
    this.context.sessionMoving(this);
    directory.remove(this);
    this.identityId = identity.identityId;
    this.virtualIp = identity.virtualIp;
    directory.holder(this.appKey, this.virtualIp)?.close(CloseCode.REPLACED, "this identity connected elsewhere");
    directory.add(this);
    // High, not Critical: it stays behind what the High lane already holds (answers about the old
    // address), which a Critical frame would overtake; earlier Normal and Low frames follow it, as
    // in every flush (outgoing-queue.ts).
    this.send(Channel.VSOCKET, VSocketType.VIRTUAL_IP, Priority.HIGH, VirtualIp.encode({ ip: this.virtualIp }));
  }

  /** Ends the session and closes its connection with `code` (after sending what is queued). */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.closeCause = sessionCauseOf(code);
    const link = this.link;
    if (link !== undefined) {
      this.flush();
      this.link = undefined;
      link.closeSocket(code, reason);
    }
    this.leave();
  }

  /**
   * Ends the session without a close handshake. With `deferNotify` (from inside send(), which
   * runs in other sessions' handlers) the services hear of it in a microtask, after the handler
   * that is running returns, never re-entrantly.
   */
  protected end(cause: SessionCloseCause, deferNotify: boolean): void {
    if (this.state === "closed") return;
    this.closeCause = cause;
    const link = this.link;
    this.link = undefined;
    link?.cutSocket(cause);
    this.leave(deferNotify);
  }

  protected leave(deferNotify = false): void {
    if (this.state === "closed") return;
    const { clock, metrics } = this.context;
    if (this.state === "detached") metrics.sessionsDetached.dec();
    this.state = "closed";
    this.queue.clear();
    this.replay?.clear();
    this.ended();
    for (const timer of [this.ackTimer, this.slowTimer, this.detachTimer]) clock.clearTimeout(timer);
    this.context.flushes.forget(this);
    metrics.sessionsEnded.inc({ cause: this.closeCause });
    const notify = (): void => {
      this.context.directory.remove(this);
      this.context.sessionClosed(this, this.closeCause);
    };
    if (deferNotify) queueMicrotask(notify);
    else notify();
  }

  /** The session is over (closed, or gone to another node: closeCause "moved"), before the services hear of it. */
  protected ended(): void {}
}
