/**
 * Every run starts from the engine's defaults: runner/engine-settings.ts reads them from a fresh
 * engine and puts back whatever differs, and the ScriptRunner does so at the end of every run
 * (Stop, a failure, Run again). Runs are numbered, and each one is announced to the page.
 */
import * as engine from "@gmnet/engine";
import { createEngine } from "@gmnet/engine";
import { afterEach, describe, expect, it } from "vitest";
import { ENGINE_SETTINGS, defaultSettings, readSettings, restoreSettings } from "../src/playground/runner/engine-settings.js";
import { type ConsoleLine, ScriptRunner } from "../src/playground/runner/script-runner.js";

const SIGNALING = "ws://127.0.0.1:9/ws";

/** Changes every setting away from its default. */
function changeEverything(e: ReturnType<typeof createEngine>): void {
  e.network_set_config(e.network_config_simulate_latency, 120);
  e.network_set_config(e.network_config_simulate_jitter, 30);
  e.network_set_config(e.network_config_simulate_loss, 0.25);
  e.network_set_config(e.network_config_message_size_limit, 64);
  e.network_set_config(e.network_config_connect_timeout, 1234);
  e.network_set_config(e.network_config_tick_rate, 30);
  e.network_set_config(e.network_config_enable_webrtc, 0);
  e.network_set_config(e.network_config_ice_servers, [{ urls: "stun:stun.example.org" }]);
  e.network_set_config(e.network_config_websocket_protocol, "chat,superchat");
  e.network_set_config(e.network_config_signaling_url, "ws://elsewhere.example/ws");
  e.network_set_config(e.network_config_app_key, "my-game");
  e.http_set_connect_timeout(5);
  e.http_set_request_crossorigin("use-credentials");
  e.master_set_timeout(77);
}

describe("engine settings", () => {
  it("reads the defaults from a fresh engine", () => {
    const defaults = defaultSettings(() => createEngine({ network: { signalingUrl: SIGNALING } }));
    expect(Object.fromEntries(defaults)).toEqual({
      network_config_simulate_latency: 0,
      network_config_simulate_jitter: 0,
      network_config_simulate_loss: 0,
      network_config_message_size_limit: 1024 * 1024,
      network_config_connect_timeout: 10_000,
      network_config_tick_rate: 0,
      network_config_enable_webrtc: 1,
      network_config_ice_servers: undefined,
      network_config_websocket_protocol: "",
      network_config_signaling_url: SIGNALING,
      network_config_app_key: "gmnet",
      http_set_connect_timeout: 60_000,
      http_set_request_crossorigin: "anonymous",
      master_set_timeout: 10_000,
    });
  });

  it("puts every changed setting back, and says which and whether the identity changed", () => {
    const fresh = (): ReturnType<typeof createEngine> => createEngine({ network: { signalingUrl: SIGNALING } });
    const defaults = defaultSettings(fresh);
    const e = fresh();
    changeEverything(e);
    expect(readSettings(e)).not.toEqual(defaults);

    const result = restoreSettings(e, defaults);
    expect(result.failed).toEqual([]);
    expect(result.restored.map((setting) => setting.name)).toEqual(ENGINE_SETTINGS.map((setting) => setting.name));
    expect(result.identity).toBe(true);
    expect(readSettings(e)).toEqual(defaults);

    // Nothing differs any more: nothing to do.
    expect(restoreSettings(e, defaults)).toEqual({ restored: [], identity: false, failed: [] });
  });

  it("only the signaling URL and the app key are the engine's identity", () => {
    const defaults = defaultSettings(createEngine);
    const e = createEngine();
    e.network_set_config(e.network_config_simulate_loss, 0.5);
    e.network_set_config(e.network_config_message_size_limit, 100);
    const result = restoreSettings(e, defaults);
    expect(result.restored.map((setting) => setting.label)).toEqual(["loss", "message size limit"]);
    expect(result.identity).toBe(false);
  });

  it("a default the engine refuses is reported, and the others are still put back", () => {
    // No signaling URL by default in Node: "" cannot be set back, it is not a ws:// URL.
    const defaults = defaultSettings(createEngine);
    expect(defaults.get("network_config_signaling_url")).toBe("");
    const e = createEngine();
    e.network_set_config(e.network_config_signaling_url, SIGNALING);
    e.network_set_config(e.network_config_tick_rate, 20);
    const result = restoreSettings(e, defaults);
    expect(result.failed.map(({ setting }) => setting.name)).toEqual(["network_config_signaling_url"]);
    expect(result.failed[0]!.error).toMatchObject({ code: "E_INVALID_ARGUMENT" });
    expect(result.restored.map((setting) => setting.name)).toEqual(["network_config_tick_rate"]);
    expect(e.network_get_config(e.network_config_tick_rate)).toBe(0);
  });
});

describe("the script runner", () => {
  const lines: ConsoleLine[] = [];
  const starts: number[] = [];
  const runner = new ScriptRunner(engine, {
    print: (line) => lines.push(line),
    problem: () => {},
    event: () => {},
    runStart: (run) => starts.push(run),
    state: () => {},
  });
  const e = engine;
  const config = (): Record<string, unknown> => ({
    latency: e.network_get_config(e.network_config_simulate_latency),
    loss: e.network_get_config(e.network_config_simulate_loss),
    limit: e.network_get_config(e.network_config_message_size_limit),
    tickRate: e.network_get_config(e.network_config_tick_rate),
    webrtc: e.network_get_config(e.network_config_enable_webrtc),
    masterTimeout: e.master_get_timeout(),
  });
  const defaults = { latency: 0, loss: 0, limit: 1024 * 1024, tickRate: 0, webrtc: 1, masterTimeout: 10_000 };
  const texts = (): string[] => lines.map((line) => line.text);

  afterEach(() => runner.stop());

  it("ends every run by putting the settings back, so the next run starts from the defaults", () => {
    expect(config()).toEqual(defaults);
    const script = [
      "network_set_config(network_config_simulate_latency, 200);",
      "network_set_config(network_config_simulate_loss, 0.3);",
      "network_set_config(network_config_message_size_limit, 1000);",
      "network_set_config(network_config_tick_rate, 20);",
      "network_set_config(network_config_enable_webrtc, 0);",
      "master_set_timeout(500);",
    ].join("\n");
    expect(runner.start(script)).toBe(true);
    expect(config()).toEqual({ latency: 200, loss: 0.3, limit: 1000, tickRate: 20, webrtc: 0, masterTimeout: 500 });

    runner.stop();
    expect(config()).toEqual(defaults);
    expect(texts().at(-1)).toMatch(/^■ Stopped after [\d.]+ s: reset latency, loss, message size limit, tick rate, WebRTC, master timeout to their defaults$/);

    // Run again (without Stop) and a failed run put them back too.
    runner.start("network_set_config(network_config_simulate_latency, 50);");
    runner.start("show_debug_message(network_get_config(network_config_simulate_latency)); network_set_config(network_config_simulate_jitter, 9); throw new Error('no');");
    expect(texts()).toContain("0");
    expect(runner.state).toBe("failed");
    expect(e.network_get_config(e.network_config_simulate_jitter)).toBe(0);
    expect(texts().at(-1)).toMatch(/^✗ Failed after [\d.]+ s: reset jitter to its default$/);
  });

  it("numbers its runs: a separator line ▶ Run n, every line tagged with its run, and runStart before it", () => {
    lines.length = 0;
    starts.length = 0;
    const first = runner.runNumber + 1;
    runner.start("show_debug_message('one');");
    runner.start("show_debug_message('two');");
    runner.stop();
    expect(starts).toEqual([first, first + 1]);
    const separators = lines.filter((line) => line.separator === true);
    expect(separators.map((line) => line.text)).toEqual([`▶ Run ${first}`, `▶ Run ${first + 1}`]);
    expect(separators.map((line) => line.run)).toEqual([first, first + 1]);
    expect(lines.find((line) => line.text === "one")?.run).toBe(first);
    expect(lines.find((line) => line.text === "two")?.run).toBe(first + 1);
    for (const line of lines) expect(line.elapsed).toBeGreaterThanOrEqual(0);
    expect(runner.runNumber).toBe(first + 1);
  });
});
