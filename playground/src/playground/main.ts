import "../shared/expose-engine.js";
/**
 * The script playground (index.html): the editor, the script runner, the examples, the output
 * console and the async-event log, and the sidebar with the live panels (panels/index.ts), which
 * see the playground only through one PanelHost built here from the runner.
 *
 * The loop: a Ticker (~60 Hz) calls runner.tick — the script's step(), then every queued async
 * event to the log, the panels and the script's async_event().
 */
import "../shared/theme.css";
import "../shared/page.css";
import "./playground.css";
import * as engine from "@gmnet/engine";
import { type ScriptEditor, createEditor } from "./editor/editor.js";
import { DEFAULT_EXAMPLE, EXAMPLES, type Example, NEW_SCRIPT, exampleById, scriptSummary, scriptTitle } from "./examples/index.js";
import type { PanelHost } from "./panel-host.js";
import { PANELS } from "./panels/index.js";
import { type Problem, problemPlace } from "./runner/problems.js";
import { scopeNames } from "./runner/scope.js";
import { type RunState, ScriptRunner } from "./runner/script-runner.js";
import { Ticker } from "./runner/ticker.js";
import { EventLog } from "./ui/event-log.js";
import { OutputConsole } from "./ui/output-console.js";

function byTestId<T extends HTMLElement>(testId: string, type: new () => T): T {
  const found = document.querySelector(`[data-testid="${testId}"]`);
  if (!(found instanceof type)) throw new Error(`playground: no <${type.name}> with data-testid="${testId}" in index.html`);
  return found;
}

// ------------------------------------------------------------------ output

const outputConsole = new OutputConsole(byTestId("console", HTMLOListElement), byTestId("console-count", HTMLElement));
const eventLog: EventLog = new EventLog(
  byTestId("event-log", HTMLOListElement),
  byTestId("event-count", HTMLElement),
  () => runner.elapsed(),
  () => (runner.state === "running" ? runner.runNumber : undefined),
);

const errorBanner = byTestId("script-error", HTMLDivElement);
const errorCode = byTestId("script-error-code", HTMLElement);
const errorMessage = byTestId("script-error-message", HTMLElement);
const errorLine = byTestId("script-error-line", HTMLButtonElement);
let errorLineNumber: number | undefined;

function showProblem(problem: Problem): void {
  errorBanner.hidden = false;
  errorBanner.dataset.code = problem.code;
  errorBanner.dataset.line = problem.line === undefined ? "" : String(problem.line);
  errorCode.textContent = problem.code;
  errorMessage.textContent = problem.message;
  errorLine.hidden = false;
  errorLine.textContent = problemPlace(problem);
  errorLine.disabled = problem.line === undefined;
  errorLineNumber = problem.line;
  if (problem.line !== undefined) editor.markProblem(problem.line, `${problem.code}: ${problem.message}`);
}

function hideProblem(): void {
  errorBanner.hidden = true;
  errorLineNumber = undefined;
  editor.clearProblem();
}

errorLine.addEventListener("click", () => {
  if (errorLineNumber === undefined) return;
  const line = editor.view.state.doc.line(Math.min(errorLineNumber, editor.view.state.doc.lines));
  editor.view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
  editor.focus();
});
byTestId("script-error-dismiss", HTMLButtonElement).addEventListener("click", hideProblem);

// ------------------------------------------------------------------ runner

const runButton = byTestId("run", HTMLButtonElement);
const stopButton = byTestId("stop", HTMLButtonElement);
const runState = byTestId("run-state", HTMLElement);

function showState(state: RunState): void {
  runState.dataset.state = state;
  runState.dataset.run = String(runner.runNumber);
  runState.textContent = state === "running" ? "running" : state === "failed" ? "stopped by an error" : "idle";
  stopButton.disabled = state !== "running";
  runButton.classList.toggle("again", state === "running");
}

const runner: ScriptRunner = new ScriptRunner(engine, {
  print: (line) => outputConsole.add(line),
  problem: showProblem,
  event: (entry) => eventLog.add(entry),
  runStart: (run) => eventLog.runStart(run),
  state: showState,
});

function run(): void {
  hideProblem();
  runner.start(editor.code());
}

runButton.addEventListener("click", run);
stopButton.addEventListener("click", () => runner.stop());
byTestId("console-clear", HTMLButtonElement).addEventListener("click", () => outputConsole.clear());
byTestId("events-clear", HTMLButtonElement).addEventListener("click", () => eventLog.clear());

// Ctrl/Cmd-Enter also runs when the focus is outside the editor (the editor has its own binding).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || editor.view.hasFocus) return;
  event.preventDefault();
  run();
});

// Errors that escape the script (a promise it left rejected, a listener it added) and the page's own.
// A stopped run's leftover promises end in ScriptStoppedError on purpose: not worth a console line.
addEventListener("error", (event) => {
  if (runner.reportUncaught(event.error ?? event.message) === "ignored") event.preventDefault();
});
addEventListener("unhandledrejection", (event) => {
  if (runner.reportUncaught(event.reason) === "ignored") event.preventDefault();
});

// ------------------------------------------------------------------ examples and the editor

const STORAGE_PREFIX = "gmnet-playground:script:";
const select = byTestId("example-select", HTMLSelectElement);
const summary = byTestId("example-summary", HTMLElement);

// "New script" first, then the examples; an entry the user has edited reads as their script.
const options = new Map<string, HTMLOptionElement>();
const option = (entry: Example): HTMLOptionElement => {
  const made = new Option(scriptTitle(entry, savedCode(entry) ?? entry.code), entry.id);
  options.set(entry.id, made);
  return made;
};
const examplesGroup = document.createElement("optgroup");
examplesGroup.label = "Examples";
examplesGroup.append(...EXAMPLES.map(option));
select.append(option(NEW_SCRIPT), examplesGroup);

let current: Example = exampleById(location.hash.slice(1)) ?? DEFAULT_EXAMPLE;
select.value = current.id;

function savedCode(example: Example): string | undefined {
  try {
    return localStorage.getItem(STORAGE_PREFIX + example.id) ?? undefined;
  } catch {
    return undefined;
  }
}

function saveCode(example: Example, code: string): void {
  try {
    if (code === example.code) localStorage.removeItem(STORAGE_PREFIX + example.id);
    else localStorage.setItem(STORAGE_PREFIX + example.id, code);
  } catch {
    // Storage full or blocked: the edit simply is not kept across reloads.
  }
}

/** The picker's text and the line under it for `example` holding `code`. */
function showTitle(example: Example, code: string): void {
  const title = scriptTitle(example, code);
  const entry = options.get(example.id);
  if (entry !== undefined && entry.text !== title) entry.text = title;
  summary.textContent = scriptSummary(example, code);
  summary.dataset.mine = String(code !== example.code);
}

function showExample(example: Example): void {
  showTitle(example, editor.code());
}

const editor: ScriptEditor = createEditor(byTestId("editor", HTMLDivElement), {
  doc: savedCode(current) ?? current.code,
  names: scopeNames(engine),
  onRun: run,
  onChange: (code) => {
    saveCode(current, code);
    showTitle(current, code);
  },
});
showExample(current);

select.addEventListener("change", () => {
  const next = exampleById(select.value);
  if (next === undefined) return;
  current = next;
  history.replaceState(null, "", `#${next.id}`);
  editor.setCode(savedCode(next) ?? next.code);
  hideProblem();
  showExample(next);
});

byTestId("reset-example", HTMLButtonElement).addEventListener("click", () => {
  editor.setCode(current.code);
  saveCode(current, current.code);
  showExample(current);
});

// ------------------------------------------------------------------ panels

const host: PanelHost = {
  sockets: () => runner.sockets(),
  buffers: () => runner.buffers(),
  mcp: () => runner.mcp(),
  onTick: (listener) => runner.onTick(listener),
  onAsyncEvent: (listener) => runner.onAsyncEvent(listener),
  showError: (error) => runner.showError(error),
};

const sidebar = byTestId("panels", HTMLElement);
const help = byTestId("help", HTMLDetailsElement);
for (const entry of PANELS) {
  const section = document.createElement("section");
  section.className = "card panel";
  section.dataset.testid = entry.testId;
  const heading = document.createElement("h2");
  heading.textContent = entry.title;
  const body = document.createElement("div");
  body.className = "panel-body";
  section.append(heading, body);
  sidebar.insertBefore(section, help);
  try {
    entry.mount(body, host);
  } catch (error) {
    host.showError(error);
    const banner = document.createElement("p");
    banner.className = "error-banner";
    banner.textContent = `This panel could not start: ${error instanceof Error ? error.message : String(error)}`;
    body.append(banner);
  }
}
// With no panels yet, the help is what the sidebar is for.
if (PANELS.length === 0) help.open = true;

// ------------------------------------------------------------------ go

showState("idle");
new Ticker((now) => runner.tick(now)).start();
document.documentElement.dataset.playground = "ready";
