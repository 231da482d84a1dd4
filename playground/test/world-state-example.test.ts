/**
 * The playground's "World state" example, run by the real ScriptRunner against the real server:
 * as a guest it lists the shards, is refused the write (only operator-listed accounts write), and
 * a write made elsewhere — an account listed with --world-writer, over the REST API — arrives in
 * the running script as master_type_world_update, because the example subscribed to everything.
 */
import * as engine from "@gmnet/engine";
import { afterEach, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../../packages/engine/test/network/support.js";
import { exampleById } from "../src/playground/examples/index.js";
import type { EngineModule } from "../src/playground/runner/resources.js";
import { ScriptRunner } from "../src/playground/runner/script-runner.js";

const APP = "test-app";
let network: TestNetwork | undefined;
afterEach(async () => {
  await network?.close();
  network = undefined;
});

async function api(url: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-gmnet-app-key": APP, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer;
}

it("lists the shards as a guest, is refused the write, and hears a writer's capture", async () => {
  network = await startNetwork({ worldWriters: [`${APP}=warden`] });
  const net = network;
  const module = { ...engine, ...net.engine(), createEngine: () => net.engine() } as unknown as EngineModule;
  const lines: string[] = [];
  const runner = new ScriptRunner(module, { print: (line) => lines.push(line.text), problem: () => {}, event: () => {}, runStart: () => {}, state: () => {} });
  const printed = async (pattern: RegExp): Promise<void> => {
    await expect
      .poll(() => {
        runner.tick(performance.now());
        return lines.some((line) => pattern.test(line));
      }, { timeout: 10_000 })
      .toBe(true);
  };

  const example = exampleById("world-state");
  expect(example).toBeDefined();
  expect(runner.start(example!.code)).toBe(true);
  await printed(/^✓ world done: 0 shards listed, write: not_world_writer$/);

  // The warden (listed for the app key) captures a shard over REST; the running script hears it.
  const { url } = net.server.address();
  await api(url, "/api/auth/register", { username: "warden", password: "a long enough password" });
  const { token } = (await api(url, "/api/auth/login", { username: "warden", password: "a long enough password" })) as { token: string };
  await api(url, "/api/world/state", { name: "shard:phoenix", value: { owner: "Crimson Covenant" }, expectedVersion: 0 }, token);
  await printed(/^shard:phoenix is now version 1: \{"owner":"Crimson Covenant"\}$/);
  runner.stop();
});
