/**
 * The in-memory memberships of app channels and UDP ports across nodes (cluster/member-cache.ts):
 * one lookup per key, notices applied (also those heard while the lookup is under way), lookups of
 * a key answered in the order they were made, a stale entry looked up again, and a bounded size.
 */
import { describe, expect, it } from "vitest";
import { MAX_AGE_MS, MAX_ENTRIES, createMemberCache } from "../src/cluster/member-cache.js";

/** A lookup the test answers when it likes, counting the calls. */
function controlledLookup() {
  const answers: Array<(nodes: number[]) => void> = [];
  return {
    calls: () => answers.length,
    lookup: () => new Promise<number[]>((resolve) => answers.push(resolve)),
    answer: (nodes: number[], call = answers.length - 1) => answers[call]!(nodes),
  };
}

describe("member cache", () => {
  it("looks a key up once, then answers from memory with the notices applied", async () => {
    let time = 0;
    const cache = createMemberCache(() => time);
    const source = controlledLookup();
    const first = cache.nodes("chan\napp\n100", source.lookup);
    source.answer([2, 3]);
    expect(await first).toEqual([2, 3]);
    cache.heard("chan\napp\n100", 4, true);
    cache.heard("chan\napp\n100", 2, false);
    time += MAX_AGE_MS - 1;
    expect((await cache.nodes("chan\napp\n100", source.lookup)).sort()).toEqual([3, 4]);
    expect(source.calls()).toBe(1);
    // A notice for a key nobody looked up is no entry.
    cache.heard("chan\napp\n101", 4, true);
    const other = cache.nodes("chan\napp\n101", source.lookup);
    source.answer([]);
    expect(await other).toEqual([]);
  });

  it("answers the lookups of a key in the order they were made, and keeps notices heard during the lookup", async () => {
    const cache = createMemberCache(() => 0);
    const source = controlledLookup();
    const order: string[] = [];
    const a = cache.nodes("udp\napp\n7000", source.lookup).then((nodes) => order.push(`a:${nodes.join(",")}`));
    // The lookup read the set before node 5 joined; its notice arrives before the answer.
    cache.heard("udp\napp\n7000", 5, true);
    const b = cache.nodes("udp\napp\n7000", source.lookup).then((nodes) => order.push(`b:${[...nodes].sort().join(",")}`));
    expect(source.calls()).toBe(1);
    source.answer([2]);
    await Promise.all([a, b]);
    const c = await cache.nodes("udp\napp\n7000", source.lookup);
    expect(order).toEqual(["a:2,5", "b:2,5"]);
    expect(c.sort()).toEqual([2, 5]);
  });

  it("looks a key up again once its entry is MAX_AGE_MS old (a notice lost with Redis), and keeps what it knew when the lookup fails", async () => {
    let time = 0;
    const cache = createMemberCache(() => time);
    const source = controlledLookup();
    const first = cache.nodes("k", source.lookup);
    source.answer([2]);
    await first;
    time = MAX_AGE_MS;
    const again = cache.nodes("k", source.lookup);
    expect(source.calls()).toBe(2);
    source.answer([2, 3]);
    expect((await again).sort()).toEqual([2, 3]);

    time = 2 * MAX_AGE_MS;
    const failing = cache.nodes("k", () => Promise.reject(new Error("redis is unreachable")));
    expect((await failing).sort()).toEqual([2, 3]);
    // Not trusted as fresh: the next frame asks again.
    cache.nodes("k", source.lookup);
    expect(source.calls()).toBe(3);
  });

  it("forgets a node that is gone everywhere, and lists the nodes it knows", async () => {
    const cache = createMemberCache(() => 0);
    await cache.nodes("a", async () => [2, 3]);
    await cache.nodes("b", async () => [3]);
    expect([...cache.known()].sort()).toEqual([2, 3, 3]);
    cache.forget(3);
    expect(await cache.nodes("a", async () => [9])).toEqual([2]);
    expect(await cache.nodes("b", async () => [9])).toEqual([]);
  });

  it(`keeps at most ${MAX_ENTRIES} keys, dropping the one looked up longest ago`, async () => {
    const cache = createMemberCache(() => 0);
    for (let port = 0; port < MAX_ENTRIES; port++) await cache.nodes(`udp\napp\n${port}`, async () => [2]);
    await cache.nodes("udp\napp\nnew", async () => [3]);
    let looked = false;
    await cache.nodes("udp\napp\n0", async () => {
      looked = true;
      return [2];
    });
    expect(looked).toBe(true);
    let again = false;
    await cache.nodes("udp\napp\nnew", async () => {
      again = true;
      return [3];
    });
    expect(again).toBe(false);
  });
});
