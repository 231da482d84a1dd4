/**
 * The pure modules behind the playground's live panels: hex-format.ts (the hex inspector's
 * `hexdump -C` rows) and stats-series.ts (per-second rates for the stats plots).
 */
import { describe, expect, it } from "vitest";
import { BYTES_PER_ROW, DEFAULT_MAX_BYTES, base64ToBytes, formatHexColumn, hexDump } from "../src/shared/hex-format.js";
import { StatsSeries, type StatsCounters, computeRates } from "../src/playground/panels/stats-series.js";

const counters = (values: Partial<StatsCounters>): StatsCounters => ({
  bytes_sent: 0,
  bytes_received: 0,
  p2p_packets_sent: 0,
  relay_packets_sent: 0,
  p2p_packets_received: 0,
  relay_packets_received: 0,
  rtt: -1,
  ...values,
});

describe("playground panels' pure modules", () => {
  it("hexDump formats like hexdump -C and caps what it shows", () => {
    const hello = new TextEncoder().encode("Hello, world!\n\0\xff");
    const dump = hexDump(hello);
    expect(dump.text).toBe(
      [
        "00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 c3  |Hello, world!...|",
        "00000010  bf                                                |.|",
        "00000011",
      ].join("\n"),
    );
    expect(dump).toMatchObject({ shownBytes: 17, totalBytes: 17, truncated: false });
    expect(dump.rows.map((row) => row.offset)).toEqual([0, 16]);
    expect(hexDump(new Uint8Array(0))).toMatchObject({ text: "", rows: [], truncated: false });
    expect(formatHexColumn([0xde, 0xad])).toHaveLength(BYTES_PER_ROW * 3);

    const big = hexDump(new Uint8Array(10_000), { totalBytes: 20_000 });
    expect(big).toMatchObject({ shownBytes: DEFAULT_MAX_BYTES, totalBytes: 20_000, truncated: true });
    expect(big.rows).toHaveLength(DEFAULT_MAX_BYTES / BYTES_PER_ROW);
    expect(big.text.split("\n").at(-1)).toBe(DEFAULT_MAX_BYTES.toString(16).padStart(8, "0"));
    // A cap that is not a whole number of rows shows whole rows only.
    expect(hexDump(new Uint8Array(100), { maxBytes: 40 })).toMatchObject({ shownBytes: 32, truncated: true });
    expect(hexDump(new Uint8Array(4), { baseOffset: 0x1_0000_0000 }).text.split("\n")[0]).toMatch(/^100000000 {2}00 00 00 00 /);
    expect([...base64ToBytes("AAH/")]).toEqual([0, 1, 255]);
  });

  it("StatsSeries turns snapshots into per-second rates over a sliding window", () => {
    expect(computeRates(counters({}), counters({ bytes_sent: 500, bytes_received: 100, p2p_packets_sent: 3, p2p_packets_received: 1, relay_packets_received: 2 }), 500)).toEqual({
      bytesSentPerSecond: 1000,
      bytesReceivedPerSecond: 200,
      p2pPacketsPerSecond: 8,
      relayPacketsPerSecond: 4,
    });
    expect(computeRates(counters({ bytes_sent: 10 }), counters({ bytes_sent: 5 }), 1000), "a counter going backwards").toBeUndefined();
    expect(computeRates(counters({}), counters({}), 0), "no time passed").toBeUndefined();

    const series = new StatsSeries(60_000);
    expect(series.push(1_000, counters({ rtt: -1 }))).toMatchObject({ rtt: null, bytesSentPerSecond: null });
    expect(series.push(3_000, counters({ rtt: 42, bytes_sent: 4000, relay_packets_sent: 10 }))).toMatchObject({ rtt: 42, bytesSentPerSecond: 2000, relayPacketsPerSecond: 5, p2pPacketsPerSecond: 0 });
    // Counters reset (a new engine): no rate rather than a negative one.
    expect(series.push(4_000, counters({ bytes_sent: 100 }))).toMatchObject({ bytesSentPerSecond: null, rtt: null });
    for (let t = 5_000; t <= 70_000; t += 1_000) series.push(t, counters({ bytes_sent: 100 + t }));
    expect(series.samples[0]!.time).toBe(10_000);
    const columns = series.columns();
    expect(columns.time[0]).toBe(10);
    expect(columns.time.at(-1)).toBe(70);
    expect(columns.bytesSentPerSecond.at(-1)).toBe(1000);
    expect(columns.time).toHaveLength(series.samples.length);
  });
});

