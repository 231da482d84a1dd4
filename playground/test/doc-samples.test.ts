/**
 * Every code sample in the docs runs as written (docs/CONTRIBUTING.md, "Code samples"): the
 * fenced blocks of README.md, PROTOCOL.md and docs/*.md are extracted, and each ```js block runs
 * against a real signaling server started on port 0 for that sample.
 *
 * - ```js: a playground script. It runs through the playground's own ScriptRunner (free names,
 *   show_debug_message, `function step()` called every tick, `function async_event(…)` for every
 *   event), on a fresh engine with memory storage, as the playground page runs it. A block with
 *   `// tab A` and `// tab B` comment lines runs in two engines: each gets the lines of its own
 *   part, plus the lines before the first marker and those under `// both`; tab B starts once
 *   tab A's requests are answered, as a reader would open the second tab after the first.
 * - ```js with `import … from "@gmnet/engine"`: module code for a bundler or Node. The imports
 *   become bindings of a fresh engine's module (its functions, constants, createEngine,
 *   installGlobals — which puts them on globalThis, taken off again afterwards), and the code runs
 *   as an async function body; requestAnimationFrame is a frame the test drives.
 * - ```js no-run: not run; its first line is a comment that says why, and there are few of them.
 * - ```sh, ```ini, ```gml, ```text: not JavaScript, never run. Any other language fails.
 *
 * Each runnable sample must: name only names it declares, the playground (or its imports)
 * provides, or the platform has (checked before it runs, so branches no event reaches are
 * checked too); run its top level, every step(), async_event(), handler and frame without
 * throwing; get an answer to every request and connect it makes; and, if it calls
 * show_debug_message or show_message, print something. Then it must stay quiet (no event, no
 * output) for QUIET_MS, which lets whatever the answers set off run. Relative http_* URLs resolve
 * against the test server, as they resolve against the page that serves the playground.
 *
 * Over 400 lines on purpose: one suite, the docs' samples; the harness above it (extraction,
 * name checks, a network per sample, the run loop) exists only to run them.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { javascriptLanguage } from "@codemirror/lang-javascript";
import * as engineModule from "@gmnet/engine";
import { type AsyncEventHandler, type AsyncLoad, type Engine, type EngineOptions, type EngineOutput, createMemoryStorage } from "@gmnet/engine";
import wrtc from "@roamhq/wrtc";
import globals from "globals";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import type { Problem } from "../src/playground/runner/problems.js";
import type { EngineModule } from "../src/playground/runner/resources.js";
import { EXTRA_NAMES, scopeNames } from "../src/playground/runner/scope.js";
import { type ConsoleLine, ScriptRunner } from "../src/playground/runner/script-runner.js";

const repoPath = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const DOC_FILES = [
  "README.md",
  "PROTOCOL.md",
  ...readdirSync(repoPath("docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`),
];

/** Languages of blocks that are not JavaScript: shown, never run (json blocks must parse). */
const NOT_JAVASCRIPT = new Set(["sh", "ini", "gml", "text", "json", "nginx", "haproxy"]);
/** At most this many js blocks may be marked no-run in all the docs. */
const MAX_NO_RUN = 3;
/** A sample is done once nothing happened (no event, no output) for this long after its last answer. */
const QUIET_MS = 200;
/** Every sample must be done within this (vitest's own limit is 20 s). */
const SAMPLE_DEADLINE_MS = 10_000;
/** One frame: step() and the frame callbacks run about this often, as in a browser. */
const FRAME_MS = 16;

interface Sample {
  readonly file: string;
  /** The 1-based line of the opening fence: the sample's first code line is the next one. */
  readonly line: number;
  readonly lang: string;
  readonly flags: readonly string[];
  readonly code: string;
}

const where = (sample: Sample, codeLine?: number): string => `${sample.file}:${codeLine === undefined ? sample.line : sample.line + codeLine}`;

/** The fenced code blocks of a markdown text (``` or ~~~, up to three spaces of indent). */
function samplesOf(file: string, markdown: string): Sample[] {
  const lines = markdown.split("\n");
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = "", fence = "", info = ""] = open;
    const closing = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !closing.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a code block that is never closed`);
    const [lang = "", ...flags] = info.trim().split(/\s+/).filter((word) => word !== "");
    samples.push({ file, line: i + 1, lang, flags, code: `${body.join("\n")}\n` });
    i = j;
  }
  return samples;
}

const SAMPLES = DOC_FILES.flatMap((file) => samplesOf(file, readFileSync(repoPath(file), "utf8")));

type Kind = "script" | "two tabs" | "module" | "no-run" | "not JavaScript";

function kindOf(sample: Sample): Kind {
  if (sample.lang !== "js") return "not JavaScript";
  if (sample.flags.includes("no-run")) return "no-run";
  if (/^import\b/m.test(sample.code)) return "module";
  if (tabMarkers(sample.code).length > 0) return "two tabs";
  return "script";
}

// ---------------------------------------------------------------------------------------------
// What a sample may name

/** What the platform has: JavaScript's built-ins and a browser page's globals. */
const PLATFORM = new Set([...Object.keys(globals.builtin), ...Object.keys(globals.browser)]);
/** The module-sample parameter that stands for `@gmnet/engine`. */
const MODULE_PARAM = "__gmnet_engine";

/** Names a block uses without declaring them anywhere in the block, each with its first (0-based) line. */
function undeclaredNames(code: string): Map<string, number> {
  const declared = new Set<string>();
  const used = new Map<string, number>();
  const lineOf = (position: number): number => code.slice(0, position).split("\n").length - 1;
  javascriptLanguage.parser.parse(code).iterate({
    enter: (node) => {
      const name = code.slice(node.from, node.to);
      if (node.name === "VariableDefinition") declared.add(name);
      // A shorthand property ({ name }) reads the variable of that name.
      const shorthand = node.name === "PropertyDefinition" && node.node.parent?.name === "Property" && node.node.nextSibling === null;
      if ((node.name === "VariableName" || shorthand) && !used.has(name)) used.set(name, lineOf(node.from));
    },
  });
  for (const name of declared) used.delete(name);
  return used;
}

function expectOnlyKnownNames(sample: Sample, code: string, provided: ReadonlySet<string>): void {
  const unknown = [...undeclaredNames(code)].filter(([name]) => !provided.has(name) && !PLATFORM.has(name));
  expect(
    unknown.map(([name, line]) => `${where(sample, line + 1)}: '${name}' is not declared, not a playground name and not the platform's`),
    "names the sample uses but nothing provides",
  ).toEqual([]);
}

/** Whether a block calls show_debug_message or show_message as free functions (so it must print). */
const printsSomething = (code: string): boolean => /(^|[^.\w$])show_(debug_message(_ext)?|message)\s*\(/m.test(code);

// ---------------------------------------------------------------------------------------------
// Two tabs

/** The `// tab A`, `// tab B` and `// both` comment lines of a block: [0-based line, part]. */
function tabMarkers(code: string): Array<[number, "A" | "B" | "both"]> {
  const markers: Array<[number, "A" | "B" | "both"]> = [];
  code.split("\n").forEach((line, i) => {
    const marker = /^\s*\/\/\s*(?:tab\s+([AB])\b|(both)\b)/i.exec(line);
    if (marker !== null) markers.push([i, marker[1] !== undefined ? (marker[1].toUpperCase() as "A" | "B") : "both"]);
  });
  return markers;
}

/** The code one tab runs: its own part and the shared lines; the other tab's lines are left blank, so line numbers stay. */
function tabCode(code: string, tab: "A" | "B"): string {
  const markers = new Map(tabMarkers(code));
  let part: "A" | "B" | "both" = "both";
  return code
    .split("\n")
    .map((line, i) => {
      part = markers.get(i) ?? part;
      return part === "both" || part === tab ? line : "";
    })
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// The network every runnable sample gets: a real server on port 0, engines on it

interface SampleNetwork {
  readonly server: GmnetServer;
  readonly engines: Engine[];
  /** fetch for the engines: a relative URL resolves against the server, as against the page it serves. */
  readonly fetch: typeof fetch;
  /** A new engine on this network, with memory storage; shut down with it. */
  engine(options?: EngineOptions): Engine;
  close(): Promise<void>;
}

async function startNetwork(): Promise<SampleNetwork> {
  // The samples' app key has an MCP token, so docs/MCP.md's tools are accepted as they would be on a server started with --mcp-token.
  const server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", mcpTokens: [`doc-samples=${randomBytes(24).toString("hex")}`] });
  await server.ready;
  const { url, wsUrl } = server.address();
  const engines: Engine[] = [];
  const pageFetch: typeof fetch = (input, init) => fetch(typeof input === "string" ? new URL(input, url) : input, init);
  return {
    server,
    engines,
    fetch: pageFetch,
    engine(options = {}) {
      const gm = engineModule.createEngine({
        storage: createMemoryStorage(),
        fetch: pageFetch,
        ...options,
        network: { WebSocket, wrtc, signalingUrl: wsUrl, appKey: "doc-samples", ...options.network },
      });
      engines.push(gm);
      return gm;
    },
    async close() {
      for (const gm of engines) gm.network_shutdown();
      await server.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What a sample is waiting for

const REQUEST_FUNCTIONS = /^(http_(get|get_file|post_string|request)|buffer_(save|load)_async|network_resolve_async)$/;
const CONNECT_FUNCTIONS = /^network_connect(_raw)?(_async)?$/;

/** The requests and connects of one engine that have no answer yet, and when it last did anything. */
class Activity {
  readonly requests = new Map<number, string>();
  readonly connecting = new Set<number>();
  lastAt = performance.now();

  constructor(private readonly gm: Engine) {}

  /** After a call of `name`: a request id to wait for, a connect to see finish. */
  called(name: string, args: unknown[], result: unknown): void {
    const e = this.gm;
    const request =
      REQUEST_FUNCTIONS.test(name) ||
      (name.startsWith("master_") && !/^master_(get_|set_|logged_in$)/.test(name)) ||
      (name === "network_set_config" && args[0] === e.network_config_hostname);
    if (request && typeof result === "number" && result > 0) this.requests.set(result, name);
    if (CONNECT_FUNCTIONS.test(name) && result === 0 && typeof args[0] === "number") this.connecting.add(args[0]);
    if (name === "network_destroy" && typeof args[0] === "number") this.connecting.delete(args[0]);
  }

  observe(load: AsyncLoad, eventType: number): void {
    const e = this.gm;
    this.lastAt = performance.now();
    const id = typeof load.id === "number" ? load.id : NaN;
    if (eventType === e.ev_async_web && load.status !== 1) this.requests.delete(id);
    if (eventType === e.ev_async_save_load) this.requests.delete(id);
    if (eventType === e.ev_async_social && load.type === e.master_type_response) this.requests.delete(id);
    if (eventType === e.ev_async_web_networking) {
      if (load.type === e.network_type_resolve || load.type === e.network_type_hostname) this.requests.delete(id);
      if (load.type === e.network_type_non_blocking_connect || load.type === e.network_type_disconnect) this.connecting.delete(id);
    }
  }

  get settled(): boolean {
    return this.requests.size === 0 && this.connecting.size === 0;
  }

  describe(): string {
    const requests = [...this.requests].map(([id, name]) => `${name} (request ${id})`);
    const connects = [...this.connecting].map((socket) => `the connect of socket ${socket}`);
    return [...requests, ...connects].join(", ") || "nothing";
  }
}

/** The engine a sample sees: every function reports its calls to `activity`, and every dispatched event passes it first. */
function tracked(gm: Engine, activity: Activity): Engine {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(gm)) {
    if (typeof value !== "function") {
      wrapped[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]): unknown => {
      const result = fn(...args);
      activity.called(name, args, result);
      return result;
    };
  }
  wrapped.async_event_dispatch = (handler: AsyncEventHandler): number =>
    gm.async_event_dispatch((load, eventType) => {
      activity.observe(load, eventType);
      handler(load, eventType);
    });
  return wrapped as Engine;
}

/** @gmnet/engine as a sample on this network sees it: `gm`'s functions, and createEngine/installGlobals that clean up after it. */
function moduleFor(gm: Engine, net: SampleNetwork, output: Partial<EngineOutput>, installed: Array<[object, string[]]>): EngineModule {
  return {
    ...engineModule,
    ...gm,
    defaultEngine: gm,
    createEngine: (options: EngineOptions = {}) => net.engine({ output, ...options }),
    installGlobals: (target: object = globalThis, engine: Engine = gm): string[] => {
      const names = engineModule.installGlobals(target, engine);
      installed.push([target, names]);
      return names;
    },
  } as unknown as EngineModule;
}

function uninstall(installed: Array<[object, string[]]>): void {
  for (const [target, names] of installed.splice(0)) for (const name of names) delete (target as Record<string, unknown>)[name];
}

// ---------------------------------------------------------------------------------------------
// Frames: requestAnimationFrame, driven by the test

class Frames {
  private nextId = 1;
  private readonly pending = new Map<number, FrameRequestCallback>();
  readonly errors: unknown[] = [];

  readonly request = (callback: FrameRequestCallback): number => {
    const id = this.nextId++;
    this.pending.set(id, callback);
    return id;
  };

  readonly cancel = (id: number): void => {
    this.pending.delete(id);
  };

  /** Runs the callbacks requested before this frame; those they request wait for the next one. */
  run(now: number): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const callback of due) {
      try {
        callback(now);
      } catch (error) {
        this.errors.push(error);
      }
    }
  }

  clear(): void {
    this.pending.clear();
    this.errors.length = 0;
  }
}

const frames = new Frames();

beforeAll(() => {
  // The playground's timers are window's; Stop cancels frames with the global cancelAnimationFrame.
  const timers = { setTimeout, setInterval, clearTimeout, clearInterval, requestAnimationFrame: frames.request, cancelAnimationFrame: frames.cancel };
  vi.stubGlobal("window", timers);
  vi.stubGlobal("requestAnimationFrame", frames.request);
  vi.stubGlobal("cancelAnimationFrame", frames.cancel);
});

afterAll(() => {
  vi.unstubAllGlobals();
});

// ---------------------------------------------------------------------------------------------
// Running

/** One engine running (part of) a sample, and what it printed and where it failed. */
interface Tab {
  readonly name: string;
  readonly gm: Engine;
  readonly activity: Activity;
  readonly lines: string[];
  readonly failures: string[];
  /** One frame: step() and the events (playground scripts), or the frame callbacks (modules). */
  tick(now: number): void;
}

/**
 * Runs frames until `waiting()` has nothing left to say (or a tab failed), and fails at the
 * deadline with what it was still waiting for.
 */
async function runUntil(sample: Sample, tabs: readonly Tab[], deadline: number, waiting: () => string[]): Promise<void> {
  for (;;) {
    const now = performance.now();
    frames.run(now);
    for (const tab of tabs) tab.tick(now);
    if (tabs.some((tab) => tab.failures.length > 0) || frames.errors.length > 0) return;
    const left = waiting();
    if (left.length === 0) return;
    if (performance.now() > deadline) throw new Error(`${where(sample)} did not finish within ${SAMPLE_DEADLINE_MS} ms: ${left.join("; ")}`);
    await Promise.race(tabs.map((tab) => tab.gm.async_event_wait(FRAME_MS)));
  }
}

/** What a sample still waits for: answers, then output if it prints, then a quiet moment. */
function waitingFor(sample: Sample, tabs: readonly Tab[]): string[] {
  const label = (tab: Tab): string => (tabs.length > 1 ? `tab ${tab.name}` : "it");
  const left = tabs.filter((tab) => !tab.activity.settled).map((tab) => `${label(tab)} waits for ${tab.activity.describe()}`);
  if (printsSomething(sample.code) && tabs.every((tab) => tab.lines.length === 0)) left.push("it calls show_debug_message or show_message but printed nothing");
  if (left.length === 0 && !quiet(tabs)) left.push(`events still come (no quiet ${QUIET_MS} ms)`);
  return left;
}

const quiet = (tabs: readonly Tab[]): boolean => tabs.every((tab) => performance.now() - tab.activity.lastAt >= QUIET_MS);

/** Runs a playground script (split into tabs A and B when it has tab markers) through the playground's ScriptRunner. */
async function runScript(sample: Sample, parts: ReadonlyArray<{ name: string; code: string }>): Promise<Tab[]> {
  const provided = new Set([...scopeNames(engineModule).map(([name]) => name), ...EXTRA_NAMES]);
  for (const part of parts) expectOnlyKnownNames(sample, part.code, provided);

  const net = await startNetwork();
  const installed: Array<[object, string[]]> = [];
  const tabs: Tab[] = [];
  const runners: ScriptRunner[] = [];
  const deadline = performance.now() + SAMPLE_DEADLINE_MS;
  try {
    for (const part of parts) {
      const lines: string[] = [];
      const failures: string[] = [];
      /** The console's error lines: they repeat a problem, or report one of the page's (which has none). */
      const errorLines: string[] = [];
      const raw = net.engine();
      const activity = new Activity(raw);
      const gm = tracked(raw, activity);
      const print = (text: string): void => {
        activity.lastAt = performance.now();
        lines.push(text);
      };
      const label = parts.length > 1 ? ` (tab ${part.name})` : "";
      const output = {
        print: (line: ConsoleLine) => {
          activity.lastAt = performance.now();
          if (line.level === "info") print(line.text);
          if (line.level === "error") errorLines.push(`${where(sample)}${label}: ${line.text}`);
        },
        problem: (problem: Problem) => {
          const at = problem.line === undefined ? where(sample) : where(sample, problem.line);
          failures.push(`${at}${label}, ${problem.phase}: ${problem.code}: ${problem.message}`);
        },
        event: () => undefined,
        runStart: () => undefined,
        state: () => undefined,
      };
      const runner = new ScriptRunner(moduleFor(gm, net, { debug: print, message: print }, installed), output);
      runners.push(runner);
      tabs.push({
        name: part.name,
        gm,
        activity,
        lines,
        get failures() {
          return failures.length > 0 ? failures : errorLines;
        },
        tick: (now) => runner.tick(now),
      });
      runner.start(part.code);
      // The next tab opens once this one has its answers (the first tab's server is up, its name claimed).
      await runUntil(sample, tabs, deadline, () => tabs.filter((tab) => !tab.activity.settled).map((tab) => `tab ${tab.name} waits for ${tab.activity.describe()}`));
    }
    await runUntil(sample, tabs, deadline, () => waitingFor(sample, tabs));
    for (const runner of runners) runner.stop();
    return tabs;
  } finally {
    uninstall(installed);
    frames.clear();
    await net.close();
  }
}

/**
 * `import … from "@gmnet/engine"` as a destructuring of MODULE_PARAM, line for line;
 * `import "@gmnet/engine/globals"` as installGlobals(). Anything else is refused.
 */
function rewriteImports(sample: Sample): string {
  return sample.code.replace(/^import\s+(?:([^"';]*?)\s+from\s+)?(["'])([^"']*)\2\s*;?/gm, (_all, clause: string | undefined, _quote, specifier: string) => {
    if (clause === undefined && specifier === "@gmnet/engine/globals") return `${MODULE_PARAM}.installGlobals();`;
    if (specifier !== "@gmnet/engine" || clause === undefined) throw new Error(`${where(sample)}: imports "${specifier}"; samples import only from "@gmnet/engine"`);
    const namespace = /^\*\s+as\s+([\w$]+)$/.exec(clause.trim());
    if (namespace !== null) return `const ${namespace[1]} = ${MODULE_PARAM};`;
    if (!/^\{[\s\S]*\}$/.test(clause.trim())) throw new Error(`${where(sample)}: @gmnet/engine has no default export`);
    return `const ${clause.replace(/([\w$]+)\s+as\s+([\w$]+)/g, "$1: $2")} = ${MODULE_PARAM};`;
  });
}

type SampleFunction = (engine: EngineModule) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => SampleFunction;
const MODULE_URL = "gmnet-doc-sample.js";

/** The sample's line (1-based) an error was thrown from, from its stack. */
function moduleLineOf(error: unknown): number | undefined {
  const match = new RegExp(`${MODULE_URL.replace(/\./g, "\\.")}:(\\d+)`).exec(error instanceof Error ? (error.stack ?? "") : "");
  // The function's header takes two lines (`async function anonymous(…\n) {\n`).
  return match === null ? undefined : Number(match[1]) - 2;
}

/** Runs module code: imports bound to a fresh engine's module, the body as an async function. */
async function runModule(sample: Sample): Promise<Tab[]> {
  const code = rewriteImports(sample);
  const net = await startNetwork();
  const installed: Array<[object, string[]]> = [];
  const lines: string[] = [];
  const failures: string[] = [];
  const fail = (error: unknown, phase: string): void => {
    const line = moduleLineOf(error);
    failures.push(`${where(sample, line)}, ${phase}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  };
  try {
    const print = (text: string): void => {
      activity.lastAt = performance.now();
      lines.push(text);
    };
    const raw = net.engine({ output: { debug: print, message: print } });
    const activity = new Activity(raw);
    const gm = tracked(raw, activity);
    const module = moduleFor(gm, net, { debug: print, message: print }, installed);

    // The imports are declarations now; installGlobals() (or the globals entry) adds every engine name.
    const globalNames = /\binstallGlobals\s*\(/.test(code) ? Object.keys(gm) : [];
    expectOnlyKnownNames(sample, code, new Set([MODULE_PARAM, ...globalNames]));

    const tab: Tab = { name: "module", gm, activity, lines, failures, tick: () => undefined };
    try {
      await new AsyncFunction(MODULE_PARAM, `"use strict";${code}\n//# sourceURL=${MODULE_URL}`)(module);
    } catch (error) {
      fail(error, "in the top level");
    }
    if (failures.length === 0) {
      await runUntil(sample, [tab], performance.now() + SAMPLE_DEADLINE_MS, () => waitingFor(sample, [tab]));
      for (const error of frames.errors) fail(error, "in a requestAnimationFrame callback");
    }
    return [tab];
  } finally {
    uninstall(installed);
    frames.clear();
    await net.close();
  }
}

// ---------------------------------------------------------------------------------------------

describe("the docs' code samples", () => {
  it("are found: every doc has its blocks, each closed", () => {
    expect(DOC_FILES).toContain("docs/NETWORK.md");
    expect(SAMPLES.filter((sample) => kindOf(sample) !== "not JavaScript" && kindOf(sample) !== "no-run").length).toBeGreaterThanOrEqual(10);
  });

  it("each name a language the test knows (js to run; sh, ini, gml, text, json, nginx, haproxy to show) and only known flags", () => {
    const wrong = SAMPLES.filter((sample) => !(sample.lang === "js" || NOT_JAVASCRIPT.has(sample.lang)) || sample.flags.some((flag) => sample.lang !== "js" || flag !== "no-run"));
    expect(
      wrong.map((sample) => `${where(sample)}: \`\`\`${[sample.lang, ...sample.flags].join(" ")}`),
      "blocks whose info string is not js, js no-run, sh, ini, gml, text, json, nginx or haproxy",
    ).toEqual([]);
  });

  it("json blocks are JSON, as a reader would paste them into a config file", () => {
    const broken = SAMPLES.filter((sample) => sample.lang === "json").filter((sample) => {
      try {
        JSON.parse(sample.code);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken.map((sample) => where(sample))).toEqual([]);
  });

  it(`are marked no-run ${MAX_NO_RUN} times at most, each saying why on its first line`, () => {
    const noRun = SAMPLES.filter((sample) => kindOf(sample) === "no-run");
    expect(noRun.length, noRun.map((sample) => where(sample)).join(", ")).toBeLessThanOrEqual(MAX_NO_RUN);
    for (const sample of noRun) expect(sample.code, `${where(sample)}: the first line of a no-run block says why`).toMatch(/^\/\/ \S.{10,}/);
  });

  it("split into tabs only with both a `// tab A` and a `// tab B` part", () => {
    const halfSplit = SAMPLES.filter((sample) => kindOf(sample) === "two tabs").filter((sample) => {
      const parts = new Set(tabMarkers(sample.code).map(([, part]) => part));
      return !(parts.has("A") && parts.has("B"));
    });
    expect(halfSplit.map((sample) => where(sample))).toEqual([]);
  });

  for (const sample of SAMPLES) {
    const kind = kindOf(sample);
    if (kind === "not JavaScript" || kind === "no-run") continue;
    it(`${where(sample)} runs as ${kind === "module" ? "an ES module" : kind === "two tabs" ? "a playground script in two tabs" : "a playground script"}`, async () => {
      const tabs =
        kind === "module"
          ? await runModule(sample)
          : await runScript(
              sample,
              kind === "two tabs"
                ? [
                    { name: "A", code: tabCode(sample.code, "A") },
                    { name: "B", code: tabCode(sample.code, "B") },
                  ]
                : [{ name: "script", code: sample.code }],
            );
      expect(tabs.flatMap((tab) => tab.failures)).toEqual([]);
      if (printsSomething(sample.code)) expect(tabs.flatMap((tab) => tab.lines).length, `${where(sample)} calls show_debug_message but printed nothing`).toBeGreaterThan(0);
    });
  }
});
