/**
 * Runs playground scripts. A script is JavaScript whose free identifiers are the engine's
 * functions and constants (scope.ts). Run compiles it and runs its top level once — the Create
 * event; then, once per tick (ticker.ts), the runner calls the script's `step()` and drains the
 * async event queue: every event goes to the event log, to the panels' listeners and to the
 * script's `async_event(async_load, event_type)`.
 *
 * Stop — and a new Run, and a script error — ends the run: its timers are cleared, its extra
 * engines shut down, its sockets destroyed, its buffers deleted, its room, party and login left,
 * every engine-wide setting (network_set_config, the http_* and master_* timeouts) put back to
 * the engine's defaults (engine-settings.ts), and late events about any of them are logged as
 * "stale" instead of reaching the next run (stale-events.ts). Runs are numbered from 1: the
 * console and the event log mark where each one starts. Ticks go on while no script runs, so the
 * log and the panels keep showing what the engine does.
 *
 * Nothing here touches the DOM: the page gets lines, problems and events through RunnerOutput.
 */
import type { AsyncEventHandler, AsyncLoad } from "@gmnet/engine";
import type { McpSnapshot, TrackedSocket } from "../panel-host.js";
import { type CompiledScript, type ScriptHooks, compileScript, scriptLineOf, thrownByScript } from "./compile.js";
import { type RestoredSettings, type SettingsSnapshot, defaultSettings, restoreSettings } from "./engine-settings.js";
import { EventNamer, type LoggedEvent } from "./format.js";
import { type Phase, type Problem, describeProblem, problemPlace } from "./problems.js";
import { type EngineModule, type Released, RunResources } from "./resources.js";
import { type ScopeHost, ScriptStoppedError, buildScope } from "./scope.js";
import { StaleEvents } from "./stale-events.js";

export type RunState = "idle" | "running" | "failed";

/** One line of the output console. */
export interface ConsoleLine {
  /** info: show_debug_message; system: the runner's own notes; error: a problem. */
  readonly level: "info" | "system" | "error";
  readonly text: string;
  /** ms since the run started; undefined outside a run. */
  readonly elapsed: number | undefined;
  /** The number of the run it belongs to (1, 2 …); undefined outside a run. */
  readonly run: number | undefined;
  /** The line that starts a run ("▶ Run 3"): the console draws a separator above it. */
  readonly separator?: boolean;
  /** The error code of an error line. */
  readonly code?: string;
}

/** Where the runner's output goes (the page, or a test). */
export interface RunnerOutput {
  print(line: ConsoleLine): void;
  /** The script failed; `problem` says where and why. Also printed as an error line. */
  problem(problem: Problem): void;
  /** A dispatched async event, for the event log. */
  event(entry: LoggedEvent): void;
  /** Run number `run` starts (before its first line and event): where the event log draws its separator. */
  runStart(run: number): void;
  state(state: RunState): void;
}

class Run implements ScopeHost {
  active = true;
  failed = false;
  hooks: ScriptHooks | undefined;
  readonly resources: RunResources;
  readonly startedAt = performance.now();

  constructor(
    readonly number: number,
    readonly code: string,
    engine: EngineModule,
    private readonly runner: ScriptRunner,
  ) {
    this.resources = new RunResources(engine);
  }

  ensureActive(what: string): void {
    if (!this.active) throw new ScriptStoppedError(what);
  }

  print(text: string): void {
    this.runner.printFor(this, { level: "info", text });
  }

  dispatch(handler: AsyncEventHandler): number {
    return this.runner.dispatchFor(this, handler);
  }

  callbackFailed(error: unknown, phase: Phase): void {
    this.runner.failFor(this, error, phase);
  }
}

export class ScriptRunner {
  private run: Run | undefined;
  /** The run that ended last, until the next one starts: the sockets panel still shows its sockets fading out. */
  private previous: Run | undefined;
  private runs = 0;
  private lastState: RunState = "idle";
  /** The engine's defaults of every engine-wide setting, from a fresh engine: each run ends by putting them back. */
  private readonly defaults: SettingsSnapshot;
  /** Late events of runs that ended. */
  private readonly stale: StaleEvents;
  private readonly tickListeners = new Set<(now: number) => void>();
  private readonly eventListeners = new Set<(asyncLoad: AsyncLoad, eventType: number) => void>();
  private readonly namer: EventNamer;

  constructor(
    private readonly engine: EngineModule,
    private readonly output: RunnerOutput,
  ) {
    this.namer = new EventNamer(engine as unknown as Record<string, unknown>);
    this.stale = new StaleEvents(engine);
    this.defaults = defaultSettings(() => engine.createEngine());
  }

  /** The number of the current run, or of the last one while none runs (0 before the first). */
  get runNumber(): number {
    return this.runs;
  }

  get state(): RunState {
    return this.run !== undefined ? "running" : this.lastState;
  }

  /** Stops the current run, then compiles and starts `code`. False if it failed before its first tick. */
  start(code: string): boolean {
    this.stop();
    // Whatever is still queued happened before this run: log it, but do not hand it to the new script.
    this.dispatch(undefined);
    const run = new Run(++this.runs, code, this.engine, this);
    this.run = run;
    this.previous = undefined;
    const scope = buildScope(this.engine, run);
    this.output.runStart(run.number);
    this.setState("running");
    this.printFor(run, { level: "system", text: `▶ Run ${run.number}`, separator: true });
    let script: CompiledScript | undefined;
    try {
      script = compileScript(code, scope.names);
    } catch (error) {
      this.fail(run, error, "compile");
    }
    if (script !== undefined) {
      try {
        run.hooks = script(...scope.values);
      } catch (error) {
        this.fail(run, error, "create");
      }
    }
    if (run.failed) {
      this.finish(run);
      return false;
    }
    const { step, async_event } = run.hooks ?? {};
    const note =
      step && async_event
        ? "running: step() every tick, async_event() for every async event"
        : step
          ? "running: step() every tick"
          : async_event
            ? "running: async_event() for every async event"
            : "running: no step() or async_event(); what the script made stays until Stop";
    this.printFor(run, { level: "system", text: note });
    return true;
  }

  /** Ends the current run and gives back everything it created. */
  stop(): void {
    if (this.run !== undefined) this.finish(this.run);
  }

  /** One playground tick: the script's step(), then the async events, then the panels' tick listeners. */
  tick(now: number): void {
    const run = this.run;
    const step = run?.hooks?.step;
    if (run !== undefined && run.active && step !== undefined) {
      try {
        step();
      } catch (error) {
        this.fail(run, error, "step");
      }
    }
    this.dispatch(undefined);
    if (run?.failed) this.finish(run);
    for (const listener of this.tickListeners) {
      try {
        listener(now);
      } catch (error) {
        this.showError(error);
      }
    }
  }

  // ------------------------------------------------------------------ PanelHost

  sockets(): readonly TrackedSocket[] {
    return (this.run ?? this.previous)?.resources.sockets() ?? [];
  }

  buffers(): readonly number[] {
    return this.run?.resources.buffers() ?? [];
  }

  mcp(): McpSnapshot {
    const run = this.run ?? this.previous;
    if (run === undefined) return { run: 0, version: 0, tools: [], calls: [] };
    const { mcp } = run.resources;
    return { run: run.number, version: mcp.version, tools: mcp.tools(), calls: mcp.calls() };
  }

  onTick(listener: (now: number) => void): () => void {
    const own = (now: number): void => listener(now);
    this.tickListeners.add(own);
    return () => this.tickListeners.delete(own);
  }

  onAsyncEvent(listener: (asyncLoad: AsyncLoad, eventType: number) => void): () => void {
    const own = (asyncLoad: AsyncLoad, eventType: number): void => listener(asyncLoad, eventType);
    this.eventListeners.add(own);
    return () => this.eventListeners.delete(own);
  }

  /** Shows an error that is not the script's (a panel's, the page's) as an error line. */
  showError(error: unknown): void {
    if (error instanceof ScriptStoppedError) return;
    const problem = describeProblem(error, "page", undefined);
    this.output.print({ level: "error", code: problem.code, text: problem.message, elapsed: this.elapsed(), run: this.run?.number });
  }

  /**
   * An error that escaped to the window (a promise the script left, an event listener it added):
   * the script's fails its run; a stopped run's ScriptStoppedError is "ignored" (the page keeps it
   * out of the browser console too); anything else is shown as the page's.
   */
  reportUncaught(error: unknown): "ignored" | "shown" {
    if (error instanceof ScriptStoppedError) return "ignored";
    const run = this.run;
    if (run !== undefined && thrownByScript(error)) {
      this.fail(run, error, "callback");
      this.finish(run);
      return "shown";
    }
    this.showError(error);
    return "shown";
  }

  // ------------------------------------------------------------------ for Run

  printFor(run: Run, line: Omit<ConsoleLine, "elapsed" | "run">): void {
    this.output.print({ ...line, elapsed: performance.now() - run.startedAt, run: run.number });
  }

  dispatchFor(run: Run, handler: AsyncEventHandler): number {
    return run === this.run ? this.dispatch(handler) : 0;
  }

  failFor(run: Run, error: unknown, phase: Phase): void {
    this.fail(run, error, phase);
    if (run.failed) this.finish(run);
  }

  // ------------------------------------------------------------------ inside

  /** Marks the run failed and shows why; finish() gives its resources back once that is safe (not inside a dispatch). */
  private fail(run: Run, error: unknown, phase: Phase): void {
    if (!run.active || error instanceof ScriptStoppedError) return;
    run.active = false;
    run.failed = true;
    const problem = describeProblem(error, phase, scriptLineOf(error, run.code));
    this.output.problem(problem);
    this.printFor(run, { level: "error", code: problem.code, text: `${problem.message} (${problemPlace(problem)})` });
  }

  private finish(run: Run): void {
    if (this.run !== run) return;
    this.run = undefined;
    this.previous = run;
    run.active = false;
    const released = run.resources.release();
    const settings = this.restoreSettings(run);
    this.stale.retire(run.resources);
    const seconds = ((performance.now() - run.startedAt) / 1000).toFixed(1);
    this.printFor(run, { level: "system", text: `${run.failed ? "✗ Failed" : "■ Stopped"} after ${seconds} s${describeRelease(released, settings)}` });
    this.setState(run.failed ? "failed" : "idle");
  }

  /**
   * Puts every engine-wide setting back to the engine's default. A changed signaling URL or app
   * key only applies to the next connection, so the engine's connection (made, or being made,
   * with the run's) is closed with network_shutdown — which also closes sockets made outside the
   * script, from the devtools — and the engine reconnects with the defaults on next use.
   */
  private restoreSettings(run: Run): RestoredSettings {
    const e = this.engine;
    const settings = restoreSettings(e, this.defaults);
    for (const { setting, error } of settings.failed) {
      const problem = describeProblem(error, "page", undefined);
      this.printFor(run, { level: "error", code: problem.code, text: `could not put ${setting.name} back to its default: ${problem.message}` });
    }
    if (settings.identity) {
      try {
        e.network_shutdown();
      } catch (error) {
        this.showError(error);
      }
    }
    return settings;
  }

  private setState(state: RunState): void {
    this.lastState = state === "running" ? this.lastState : state;
    this.output.state(state);
  }

  /** ms since the current run started; undefined while none runs. */
  elapsed(): number | undefined {
    return this.run === undefined ? undefined : performance.now() - this.run.startedAt;
  }

  /** Drains the engine's queue: log, panels, then the script (its own handler, or its async_event). */
  private dispatch(scriptHandler: AsyncEventHandler | undefined): number {
    const run = this.run;
    const e = this.engine;
    return e.async_event_dispatch((load, eventType) => {
      const live = run !== undefined && run.active;
      const stale = this.stale.isStale(load, eventType, this.run);
      const origin = !live ? "idle" : stale ? "stale" : "run";
      if (origin === "run") run!.resources.observe(load, eventType);
      else this.stale.settleMcp(load, eventType, this.run, (error) => this.showError(error));
      try {
        const fields = this.namer.fields(load, eventType, (buffer) => (e.buffer_exists(buffer) ? e.buffer_get_used_size(buffer) : undefined));
        this.output.event({ at: performance.now(), eventType, eventName: this.namer.eventName(eventType), fields, origin });
      } catch (error) {
        this.showError(error);
      }
      for (const listener of this.eventListeners) {
        try {
          listener(load, eventType);
        } catch (error) {
          this.showError(error);
        }
      }
      if (origin !== "run" || !run!.active) return;
      const handler = scriptHandler ?? run!.hooks?.async_event;
      if (handler === undefined) return;
      try {
        handler(load, eventType);
      } catch (error) {
        this.fail(run!, error, "async_event");
      }
    });
  }
}

function describeRelease(released: Released, settings: RestoredSettings): string {
  const parts: string[] = [];
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  if (released.sockets > 0) parts.push(`closed ${count(released.sockets, "socket", "sockets")}`);
  if (released.buffers > 0) parts.push(`deleted ${count(released.buffers, "buffer", "buffers")}`);
  if (released.engines > 0) parts.push(`shut down ${count(released.engines, "extra engine", "extra engines")}`);
  if (released.timers > 0) parts.push(`cleared ${count(released.timers, "timer", "timers")}`);
  if (released.tools > 0) parts.push(`withdrew ${count(released.tools, "MCP tool", "MCP tools")}`);
  const restored = settings.restored.map((setting) => setting.label);
  if (restored.length > 0) parts.push(`reset ${restored.join(", ")} to ${restored.length === 1 ? "its default" : "their defaults"}`);
  parts.push(...released.master);
  return parts.length === 0 ? "" : `: ${parts.join(", ")}`;
}
