/**
 * App channels end to end (docs/NETWORK.md "App channels", PROTOCOL.md §3): engines of one app
 * key through the real server on port 0 register a channel by name, send on it with every
 * priority and get each other's messages with the sender's virtual IP as the server stamped it.
 */
import wrtc from "@roamhq/wrtc";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { behind, direct, useProxiedServer } from "../support/proxied-server.js";
import { EventLog, type TestNetwork, bufferOf, startNetwork, text } from "./support.js";

let network: TestNetwork | undefined;
afterEach(async () => {
  await network?.close();
  network = undefined;
});

interface Player {
  gm: Engine;
  log: EventLog;
  ip: string;
}

async function join(net: TestNetwork, appKey?: string): Promise<Player> {
  const gm = net.engine(appKey === undefined ? {} : { appKey });
  const log = new EventLog(gm);
  const channelRequest = gm.network_channel_register("lobby");
  const up = await log.next({ type: gm.network_type_up });
  const answer = await log.next({ type: gm.network_type_channel, id: channelRequest });
  expect(answer).toMatchObject({ name: "lobby", succeeded: 1 });
  return { gm, log, ip: up.ip as string, channel: answer.channel as number } as Player & { channel: number };
}

/** A player for an engine a test made itself (its ip is not needed). */
const playerOf = (gm: Engine): Player => ({ gm, log: new EventLog(gm), ip: "" });

async function register(player: Player, name: string): Promise<number> {
  const id = player.gm.network_channel_register(name);
  const answer = await player.log.next({ type: player.gm.network_type_channel, id });
  expect(answer).toMatchObject({ name, succeeded: 1 });
  return answer.channel as number;
}

function send(player: Player, channel: number, type: number, content: string, priority: number): number {
  const buffer = bufferOf(player.gm, content);
  try {
    return player.gm.network_channel_send(channel, type, buffer, new TextEncoder().encode(content).length, priority);
  } finally {
    player.gm.buffer_delete(buffer);
  }
}

describe("app channels", () => {
  it("gives every engine of the app the same number and relays with the sender's ip, at every priority", async () => {
    network = await startNetwork();
    const [a, b, c] = (await Promise.all([join(network), join(network), join(network)])) as Array<Player & { channel: number }>;
    const channel = a!.channel;
    expect(channel).toBeGreaterThanOrEqual(1000);
    expect([b!.channel, c!.channel]).toEqual([channel, channel]);
    const priorities = [a!.gm.network_priority_critical, a!.gm.network_priority_high, a!.gm.network_priority_normal, a!.gm.network_priority_low];
    expect(priorities).toEqual([0, 1, 2, 3]);

    for (const [i, priority] of priorities.entries()) expect(send(a!, channel, 10 + i, `hello ${i}`, priority)).toBe(7);
    for (const receiver of [b!, c!]) {
      for (const i of priorities.keys()) {
        const got = await receiver.log.next({ type: receiver.gm.network_type_channel_data, packet_type: 10 + i });
        expect(got).toMatchObject({ id: channel, channel, name: "lobby", ip: a!.ip, size: 7 });
        expect(text(got.bytes)).toBe(`hello ${i}`);
      }
    }
    // B answers: A and C see B's address, never their own.
    expect(send(b!, channel, 1, "from b", b!.gm.network_priority_normal)).toBe(6);
    expect((await a!.log.next({ type: a!.gm.network_type_channel_data, packet_type: 1 })).ip).toBe(b!.ip);
    expect((await c!.log.next({ type: c!.gm.network_type_channel_data, packet_type: 1 })).ip).toBe(b!.ip);
    expect(a!.log.seen.filter((event) => event.type === a!.gm.network_type_channel_data)).toHaveLength(1);

    expect(a!.gm.network_get_stats(-1)!.channels).toEqual([{ channel, name: "lobby", packets_sent: 4, bytes_sent: 28, packets_received: 1, bytes_received: 6 }]);
    expect(b!.gm.network_get_stats(-1)!.channels).toEqual([{ channel, name: "lobby", packets_sent: 1, bytes_sent: 6, packets_received: 4, bytes_received: 28 }]);

    // A second name gets the next number, the same for everyone.
    const second = await register(a!, "scores");
    expect(second).toBe(channel + 1);
    expect(await register(c!, "scores")).toBe(second);
  });

  it("stops delivering after network_channel_unregister, and refuses sends on it", async () => {
    network = await startNetwork();
    const [a, b] = (await Promise.all([join(network), join(network)])) as Array<Player & { channel: number }>;
    const channel = a!.channel;
    expect(b!.gm.network_channel_unregister(channel)).toBe(0);
    expect(b!.gm.network_channel_unregister(channel)).toBe(-1);
    expect(send(b!, channel, 1, "x", b!.gm.network_priority_normal)).toBe(-1);
    send(a!, channel, 2, "after", a!.gm.network_priority_normal);
    // A barrier: a fresh channel both register, and a message on it, arrives after anything on the old one.
    const barrier = await register(a!, "barrier");
    expect(await register(b!, "barrier")).toBe(barrier);
    send(a!, barrier, 3, "barrier", a!.gm.network_priority_normal);
    await b!.log.next({ type: b!.gm.network_type_channel_data, channel: barrier });
    expect(b!.log.seen.filter((event) => event.type === b!.gm.network_type_channel_data && event.channel === channel)).toEqual([]);
    // Unknown channel numbers and bad arguments.
    expect(send(a!, 4321, 1, "x", a!.gm.network_priority_normal)).toBe(-1);
    const buffer = bufferOf(a!.gm, "x");
    expect(() => a!.gm.network_channel_send(channel, 70000, buffer, 1, 2)).toThrow(/packet_type/);
    expect(() => a!.gm.network_channel_send(channel, 1, buffer, 1, 4)).toThrow(/priority/);
    expect(() => a!.gm.network_channel_register("")).toThrow(/1 to 64 bytes/);
  });

  it("keeps the numbers of an app after every member left", async () => {
    network = await startNetwork();
    const first = network.engine({ appKey: "stable" });
    const p1 = playerOf(first);
    const lobby = await register(p1, "lobby");
    const scores = await register(p1, "scores");
    first.network_shutdown();
    // The server has seen the session go when a newcomer's registration is answered after its close: wait for it.
    await expect.poll(async () => (await (await fetch(network!.server.address().url + "/metrics")).text()).match(/^gmnet_connections (\d+)/m)?.[1] ?? "?").toBe("0");
    const second = network.engine({ appKey: "stable" });
    const p2 = playerOf(second);
    // Registered in the other order: numbers come from the kept table, not from the order.
    expect(await register(p2, "scores")).toBe(scores);
    expect(await register(p2, "lobby")).toBe(lobby);
    expect(await register(p2, "new")).toBe(scores + 1);
  });
});

describe("app channels across a forced reconnect", () => {
  const start = useProxiedServer();
  /** The server of the restart tests, which start it (twice) themselves. */
  let server: GmnetServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("delivers every message sent before and during the drop, once and in order within its priority", async () => {
    const net = await start();
    const receiver = direct(net.server, "reliable");
    const sender = behind(net.proxy, "reliable");
    const [rx, tx] = [playerOf(receiver), playerOf(sender)];
    try {
      const channel = await register(rx, "moves");
      expect(await register(tx, "moves")).toBe(channel);
      for (let i = 0; i < 50; i++) send(tx, channel, 1, `m${i}`, sender.network_priority_normal);
      net.proxy.block();
      net.proxy.reset();
      // Sent while the path is down: held by the sender's session and sent when it resumes.
      for (let i = 50; i < 100; i++) expect(send(tx, channel, 1, `m${i}`, sender.network_priority_normal)).toBe(`m${i}`.length);
      // High frames may overtake Normal ones (the server flushes High first); among themselves they keep their order too.
      for (let i = 0; i < 10; i++) send(tx, channel, 2, `h${i}`, sender.network_priority_high);
      net.proxy.unblock();
      const normal: string[] = [];
      const high: string[] = [];
      while (normal.length + high.length < 110) {
        const event = await rx.log.next({ type: receiver.network_type_channel_data }, 10_000);
        (event.packet_type === 1 ? normal : high).push(text(event.bytes));
      }
      expect(normal.join(",")).toBe(Array.from({ length: 100 }, (_, i) => `m${i}`).join(","));
      expect(high.join(",")).toBe(Array.from({ length: 10 }, (_, i) => `h${i}`).join(","));
      expect(sender.network_get_stats(-1)!.resumes).toBeGreaterThanOrEqual(1);
      expect([...rx.log.seen, ...tx.log.seen].filter((event) => event.type === receiver.network_type_down)).toEqual([]);
    } finally {
      sender.network_shutdown();
      receiver.network_shutdown();
    }
  }, 30_000);

  /** Both ways on `channel`, after a barrier name both register (its answer comes after the re-registrations, on each connection). */
  async function bothWays(a: Player, b: Player, channel: number, barrier: string, barrierChannel: number): Promise<void> {
    // The barrier's number also shows the server had the old names first (a fresh table would give it theirs).
    expect(await register(a, barrier)).toBe(barrierChannel);
    expect(await register(b, barrier)).toBe(barrierChannel);
    expect(send(a, channel, 7, "a to b", a.gm.network_priority_normal)).toBe(6);
    expect(text((await b.log.next({ type: b.gm.network_type_channel_data, channel, packet_type: 7 }, 10_000)).bytes)).toBe("a to b");
    expect(send(b, channel, 8, "b to a", b.gm.network_priority_normal)).toBe(6);
    expect(text((await a.log.next({ type: a.gm.network_type_channel_data, channel, packet_type: 8 }, 10_000)).bytes)).toBe("b to a");
  }

  /** A registers "lobby" then "moves"; B registers them in `bOrder` and gets A's numbers. */
  async function lobbyAndMoves(a: Player, b: Player, bOrder: ReadonlyArray<"lobby" | "moves">): Promise<{ lobby: number; moves: number }> {
    const numbers = { lobby: await register(a, "lobby"), moves: await register(a, "moves") };
    for (const name of bOrder) expect(await register(b, name)).toBe(numbers[name]);
    return numbers;
  }

  it("registers its channels again by itself after a drop past the resume window: same numbers, messages flow", async () => {
    const net = await start({ resumeWindowMs: 300 });
    const steady = direct(net.server, "not-resumed");
    const dropped = behind(net.proxy, "not-resumed");
    const [a, b] = [playerOf(steady), playerOf(dropped)];
    try {
      const { lobby, moves } = await lobbyAndMoves(a, b, ["moves", "lobby"]);
      // The server is out of reach for longer than the resume window: the session ends.
      net.proxy.block();
      net.proxy.reset();
      expect((await b.log.next({ type: dropped.network_type_down }, 10_000)).error).toBe("E_NETWORK_NOT_RECOVERED");
      net.proxy.unblock();
      await b.log.next({ type: dropped.network_type_up }, 10_000);
      // No new registration by the script: the engine did it, and the numbers did not change.
      await bothWays(a, b, moves, "barrier-1", lobby + 2);
      await bothWays(a, b, lobby, "barrier-2", lobby + 3);
      expect(b.log.seen.filter((event) => event.type === dropped.network_type_channel).map((event) => event.name)).toEqual(["moves", "lobby", "barrier-1", "barrier-2"]);
      expect(dropped.network_get_stats(-1)!.channels!.map((entry) => entry.channel)).toEqual([lobby, moves, lobby + 2, lobby + 3]);
    } finally {
      dropped.network_shutdown();
      steady.network_shutdown();
    }
  }, 30_000);

  it("registers its channels again by itself on a restarted server (same port, same db): same numbers, messages flow", async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), "gmnet-channels-"));
    const db = joinPath(dir, "gmnet.sqlite");
    server = createServer({ port: 0, host: "127.0.0.1", db, logLevel: "silent" });
    await server.ready;
    const port = server.address().port;
    const options = { WebSocket, wrtc, appKey: "restarted", signalingUrl: server.address().wsUrl, reconnectDelayMs: 20 };
    const first = createEngine({ storage: createMemoryStorage(), network: options });
    const second = createEngine({ storage: createMemoryStorage(), network: options });
    const [a, b] = [playerOf(first), playerOf(second)];
    try {
      const { lobby, moves } = await lobbyAndMoves(a, b, ["lobby", "moves"]);
      await server.close();
      await a.log.next({ type: first.network_type_down }, 10_000);
      await b.log.next({ type: second.network_type_down }, 10_000);
      server = createServer({ port, host: "127.0.0.1", db, logLevel: "silent" });
      await server.ready;
      await a.log.next({ type: first.network_type_up }, 20_000);
      await b.log.next({ type: second.network_type_up }, 20_000);
      await bothWays(a, b, lobby, "barrier-1", moves + 1);
      await bothWays(a, b, moves, "barrier-2", moves + 2);
      expect([...a.log.seen, ...b.log.seen].filter((event) => event.type === first.network_type_channel && event.id === -1)).toEqual([]);
    } finally {
      first.network_shutdown();
      second.network_shutdown();
      await server?.close();
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it("tells the script when a restarted server gives a channel another number, and sends go on the new one", async () => {
    server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent" });
    await server.ready;
    const port = server.address().port;
    const options = { WebSocket, wrtc, appKey: "renumbered", signalingUrl: server.address().wsUrl, reconnectDelayMs: 20 };
    const alone = createEngine({ storage: createMemoryStorage(), network: options });
    const a = playerOf(alone);
    try {
      const first = await register(a, "first");
      const second = await register(a, "second");
      expect([first, second]).toEqual([1000, 1001]);
      expect(alone.network_channel_unregister(first)).toBe(0);
      await server.close();
      await a.log.next({ type: alone.network_type_down }, 10_000);
      server = createServer({ port, host: "127.0.0.1", db: ":memory:", logLevel: "silent" });
      await server.ready;
      // The new server's table starts empty: "second" is the first name it hears, so it is 1000 now.
      expect(await a.log.next({ type: alone.network_type_channel, id: -1 }, 20_000)).toMatchObject({ name: "second", channel: 1000, previous_channel: 1001, succeeded: 1 });
      expect(send(a, 1001, 1, "old number", alone.network_priority_normal)).toBe(-1);
      expect(send(a, 1000, 1, "new number", alone.network_priority_normal)).toBe(10);
    } finally {
      alone.network_shutdown();
    }
  }, 40_000);
});
