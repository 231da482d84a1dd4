/**
 * gmnet's own ends of an echo (network.bench.ts): engines driven as a game loop would drive them,
 * and B's end that sends with network_send_packet or network_send_udp and takes the echoes.
 */
import type { AsyncLoad, Engine } from "@gmnet/engine";
import { type EchoPath, now } from "./echo-path.js";
import { SETUP_TIMEOUT_MS } from "./options.js";

/** An event a setup step waited for. */
export type Load = AsyncLoad & { event_type: number };

/** Drains `gm`'s events until one matches (others are dropped); only for setup, before anything is measured. */
export async function nextEvent(gm: Engine, what: string, match: (load: AsyncLoad) => boolean, timeoutMs = SETUP_TIMEOUT_MS): Promise<Load> {
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
export class EventLoop {
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
export class EngineEchoClient implements EchoPath {
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
