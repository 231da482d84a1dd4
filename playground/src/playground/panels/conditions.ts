/**
 * Network conditions: sliders for the engine's link simulation, wired to network_set_config.
 * Units (packages/engine/src/network/conditioner.ts, constants.ts): latency and jitter in ms
 * (jitter: up to that many more ms at random), loss as a share 0…1 of outgoing datagrams — the
 * slider shows percent and sends percent / 100. Streams are delayed but never lose data.
 *
 * The values shown are always read back with network_get_config (a few times a second too), so
 * a script that sets them itself is reflected here — and so is the end of a run, which puts them
 * back to the engine's defaults (runner/engine-settings.ts). Mounting changes nothing: the panel
 * only writes when a slider moves or "Reset" is pressed, which sets the defaults of a fresh engine.
 */
import {
  createEngine,
  network_config_simulate_jitter,
  network_config_simulate_latency,
  network_config_simulate_loss,
  network_get_config,
  network_set_config,
} from "@gmnet/engine";
import type { MountPanel } from "../panel-host.js";
import { el, formatNumber, setText, throttled } from "./format.js";
import "./panels.css";

const REFRESH_MS = 250;

interface Condition {
  /** data-testid prefix: `${key}-slider`, `${key}-value`. */
  readonly key: "latency" | "jitter" | "loss";
  readonly label: string;
  readonly config: number;
  /** Slider range, in the slider's unit. */
  readonly max: number;
  readonly step: number;
  readonly unit: string;
  /** Slider value → network_set_config value. */
  readonly toEngine: (value: number) => number;
  /** network_get_config value → slider unit. */
  readonly fromEngine: (value: number) => number;
  readonly help: string;
}

const identity = (value: number): number => value;

export const CONDITIONS: readonly Condition[] = [
  {
    key: "latency",
    label: "Latency",
    config: network_config_simulate_latency,
    max: 500,
    step: 5,
    unit: "ms",
    toEngine: identity,
    fromEngine: identity,
    help: "Delay added to everything this tab sends (network_config_simulate_latency).",
  },
  {
    key: "jitter",
    label: "Jitter",
    config: network_config_simulate_jitter,
    max: 200,
    step: 5,
    unit: "ms",
    toEngine: identity,
    fromEngine: identity,
    help: "Up to this many more ms at random; datagrams may overtake each other (network_config_simulate_jitter).",
  },
  {
    key: "loss",
    label: "Loss",
    config: network_config_simulate_loss,
    max: 50,
    step: 1,
    unit: "%",
    toEngine: (percent) => percent / 100,
    fromEngine: (share) => share * 100,
    help: "Share of outgoing datagrams dropped; TCP streams lose nothing (network_config_simulate_loss, 0–1).",
  },
];

export const mountConditions: MountPanel = (container, host) => {
  container.classList.add("lp-panel", "lp-conditions");
  /** Sliders held by the pointer: the refresh leaves them where the user has them. */
  const dragging = new Set<HTMLInputElement>();
  /** The last read-back failure shown, so a failing read is reported once, not four times a second. */
  let readProblem = "";

  const controls = CONDITIONS.map((condition) => {
    const slider = el("input", { testId: `${condition.key}-slider`, title: condition.help });
    slider.type = "range";
    slider.min = "0";
    slider.max = String(condition.max);
    slider.step = String(condition.step);
    slider.value = "0";
    slider.setAttribute("aria-label", `${condition.label} (${condition.unit})`);
    const value = el("output", { className: "lp-value", testId: `${condition.key}-value` });
    const row = el("label", { className: "lp-slider", title: condition.help }, el("span", { text: condition.label }), slider, value);
    slider.addEventListener("pointerdown", () => dragging.add(slider));
    for (const done of ["pointerup", "pointercancel", "change"]) slider.addEventListener(done, () => dragging.delete(slider));
    slider.addEventListener("input", () => {
      apply(condition, slider.valueAsNumber);
      refresh();
    });
    return { condition, slider, value, row };
  });

  const reset = el("button", { className: "secondary", testId: "conditions-reset", text: "Reset", title: "The engine's defaults: no latency, jitter or loss" });
  reset.type = "button";
  reset.addEventListener("click", () => {
    // The defaults of an engine nobody has configured (it is never used for anything else).
    const fresh = createEngine();
    for (const { condition } of controls) applyEngineValue(condition, fresh.network_get_config(condition.config));
    refresh();
  });
  container.append(
    ...controls.map((control) => control.row),
    el("div", { className: "lp-row lp-row-end" }, el("p", { className: "lp-note", text: "Applies to what this tab sends. The end of a run puts the defaults back." }), reset),
  );

  function apply(condition: Condition, value: number): void {
    applyEngineValue(condition, condition.toEngine(value));
  }

  function applyEngineValue(condition: Condition, value: unknown): void {
    try {
      network_set_config(condition.config, value);
    } catch (error) {
      host.showError(error);
    }
  }

  function refresh(): void {
    for (const { condition, slider, value } of controls) {
      let current: number;
      try {
        current = condition.fromEngine(Number(network_get_config(condition.config)));
      } catch (error) {
        if (String(error) !== readProblem) host.showError(error);
        readProblem = String(error);
        continue;
      }
      setText(value, `${formatNumber(current)} ${condition.unit}`);
      value.dataset.value = formatNumber(current, 4);
      // Follow the engine (the script may set these too), but leave a slider alone while it is dragged.
      if (!dragging.has(slider) && Math.abs(slider.valueAsNumber - current) >= condition.step / 2) slider.value = String(current);
    }
  }

  refresh();
  host.onTick(throttled(REFRESH_MS, refresh));
};
