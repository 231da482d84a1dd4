/**
 * The frames a connection holds back (connection.ts): every frame from the Hello until its session
 * is open, and, while a login settles (Session.holdFramesUntil), every frame but housekeeping.
 * Held frames are handled later in arrival order, before any later one, exactly as if they had
 * arrived then.
 */
import { Channel, ControlType } from "@gmnet/protocol";

export interface HeldFrame {
  readonly channel: number;
  readonly type: number;
  readonly priority: number;
  readonly payload: Uint8Array;
}

/** Frames about the connection itself, never held for a login: answering them late would only look like a dead link. */
function isHousekeeping(frame: HeldFrame): boolean {
  if (frame.channel !== Channel.CONTROL) return false;
  return frame.type === ControlType.PONG || frame.type === ControlType.ACK || frame.type === ControlType.ECHO_REQUEST;
}

export class HeldFrames {
  /** From the Hello until the session is open and its services are ready: frames go to `held`, in arrival order. */
  private holding = false;
  private held: HeldFrame[] = [];
  /** Holds (Session.holdFramesUntil) not settled yet: while any, the client's frames but housekeeping wait in `held` too. */
  private holds = 0;

  constructor(
    /** Handles one released frame. */
    private readonly handle: (frame: HeldFrame) => void,
    /** The connection has closed: released frames stop there. */
    private readonly ended: () => boolean,
  ) {}

  /** True when `frame` has to wait (it is then kept, in order). */
  hold(frame: HeldFrame): boolean {
    if (!this.holding && (this.holds === 0 || isHousekeeping(frame))) return false;
    this.held.push(frame);
    return true;
  }

  /** The Hello arrived: everything waits until its session is open (release). */
  holdForHello(): void {
    this.holding = true;
  }

  /** The session is open: the frames held since the Hello, in order. */
  release(): void {
    this.holding = false;
    this.handleHeld();
  }

  holdUntil(settled: Promise<unknown>): void {
    this.holds++;
    const release = (): void => {
      this.holds--;
      if (this.holds === 0 && !this.holding) this.handleHeld();
    };
    settled.then(release, release);
  }

  /** Forgets what is held (the connection is closing without a session). */
  clear(): void {
    this.held = [];
  }

  /** The held frames in order, until one of them starts another hold (a second login in a row). */
  private handleHeld(): void {
    let handled = 0;
    while (handled < this.held.length && this.holds === 0) {
      if (this.ended()) return;
      this.handle(this.held[handled++]!);
    }
    this.held.splice(0, handled);
  }
}
