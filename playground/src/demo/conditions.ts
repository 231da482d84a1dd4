/**
 * The "network conditions" panel: simulated latency, jitter and loss for everything this tab
 * sends, through network_set_config. Units (packages/engine/src/network/conditioner.ts):
 * latency and jitter in ms (jitter: up to that many more, at random), loss as a share 0…1 of
 * datagrams (TCP streams are delayed but never lose anything). The checkbox is the preset the
 * demo is meant to survive: 100 ms and 5 % loss.
 */
import { network_config_simulate_jitter, network_config_simulate_latency, network_config_simulate_loss, network_set_config } from "@gmnet/engine";

export interface Conditions {
  latencyMs: number;
  jitterMs: number;
  /** Percent, 0–100, as the slider shows it. */
  lossPercent: number;
}

export const BAD_NETWORK: Readonly<Conditions> = { latencyMs: 100, jitterMs: 0, lossPercent: 5 };
const GOOD_NETWORK: Readonly<Conditions> = { latencyMs: 0, jitterMs: 0, lossPercent: 0 };

export interface ConditionsControls {
  readonly preset: HTMLInputElement;
  readonly latency: HTMLInputElement;
  readonly jitter: HTMLInputElement;
  readonly loss: HTMLInputElement;
  readonly latencyOut: HTMLOutputElement;
  readonly jitterOut: HTMLOutputElement;
  readonly lossOut: HTMLOutputElement;
}

export function setUpConditions(controls: ConditionsControls): void {
  const read = (): Conditions => ({ latencyMs: controls.latency.valueAsNumber, jitterMs: controls.jitter.valueAsNumber, lossPercent: controls.loss.valueAsNumber });
  const show = (conditions: Conditions): void => {
    controls.latency.valueAsNumber = conditions.latencyMs;
    controls.jitter.valueAsNumber = conditions.jitterMs;
    controls.loss.valueAsNumber = conditions.lossPercent;
    controls.latencyOut.value = `${conditions.latencyMs} ms`;
    controls.jitterOut.value = `${conditions.jitterMs} ms`;
    controls.lossOut.value = `${conditions.lossPercent} %`;
    controls.preset.checked = sameAs(conditions, BAD_NETWORK);
  };
  const apply = (conditions: Conditions): void => {
    network_set_config(network_config_simulate_latency, conditions.latencyMs);
    network_set_config(network_config_simulate_jitter, conditions.jitterMs);
    network_set_config(network_config_simulate_loss, conditions.lossPercent / 100);
    show(conditions);
  };
  controls.preset.addEventListener("change", () => apply(controls.preset.checked ? BAD_NETWORK : GOOD_NETWORK));
  for (const slider of [controls.latency, controls.jitter, controls.loss]) slider.addEventListener("input", () => apply(read()));
  apply(read());
}

function sameAs(a: Conditions, b: Conditions): boolean {
  return a.latencyMs === b.latencyMs && a.jitterMs === b.jitterMs && a.lossPercent === b.lossPercent;
}
