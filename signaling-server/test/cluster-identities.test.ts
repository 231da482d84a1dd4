/**
 * Two nodes racing to allocate virtual IPs (PROTOCOL.md §15, "Shared identities"; gmnet issue 18):
 * 1 000 new identities say HELLO at once, half through each node, both nodes on one private
 * PostgreSQL (and Redis, as a cluster runs). Every WELCOME carries an address, no two alike, the
 * identities table agrees, and each identity gets the same address again from the other node.
 *
 * The range is a /22 (1 022 addresses) that the 1 000 identities nearly fill: in the default
 * 10.0.0.0/8 the storage's random picks practically never meet (0 lost races in every trial run),
 * while here, once random picks keep hitting taken addresses, both nodes pick the same next free
 * one and the UNIQUE constraint has to settle it (the storage inserts with ON CONFLICT DO NOTHING
 * and looks again). Each lost insert still consumes a value of the id sequence, so
 * `max(id) - count(*)` counts the lost races without asking the code under test.
 */
import { randomBytes } from "node:crypto";
import { formatIpv4 } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { queryOnce } from "./support/private-postgres.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { useCluster } from "./support/test-cluster.js";

const IDENTITIES = 1000;
/** HELLOs in flight at once over both nodes: enough to race, few enough to keep sockets and the pools sane. */
const CONCURRENCY = 100;
const APP_KEY = "race-app";

/** Runs `task(0 … count-1)` with at most `limit` running at once; results in index order. */
async function boundedAll<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

/** HELLO as `secret` on `node`; resolves with the WELCOME's virtual IP once the connection is closed again. */
async function helloOnce(node: GmnetServer, secret: string): Promise<number> {
  const client = await ProtocolClient.connect(node.address().wsUrl, { appKey: APP_KEY, secret });
  client.close();
  await client.closed();
  return client.welcome.virtualIp;
}

const NETWORK = "10.77.0.0/22";
/** Its assignable addresses, computed by hand: 10.77.0.1 to 10.77.3.254 (network and broadcast excluded). */
const FIRST = 0x0a4d_0001;
const LAST = 0x0a4d_03fe;

const cluster = useCluster({ database: "gmnet_race", nodes: [1, 2], options: { virtualNetwork: NETWORK } });
const { nodes } = cluster;

describe(`1 000 new identities through two nodes in ${NETWORK}`, () => {
  it("gives every one its own address, the table agrees, and the other node answers the same", async () => {
    const secrets = Array.from({ length: IDENTITIES }, () => randomBytes(18).toString("base64url"));
    expect(new Set(secrets).size).toBe(IDENTITIES);
    // Interleaved: identity i on node i % 2, so both nodes allocate throughout.
    const nodeOf = (i: number): GmnetServer => nodes[i % 2]!;
    const otherNodeOf = (i: number): GmnetServer => nodes[(i + 1) % 2]!;

    const addresses = await boundedAll(IDENTITIES, CONCURRENCY, (i) => helloOnce(nodeOf(i), secrets[i]!));
    expect(new Set(addresses).size).toBe(IDENTITIES);
    const outside = addresses.filter((ip) => ip < FIRST || ip > LAST).map(formatIpv4);
    expect(outside).toEqual([]);

    const rows = await queryOnce<{ identities: string; addresses: string; top_id: string }>(
      cluster.database,
      "SELECT count(*) AS identities, count(DISTINCT virtual_ip) AS addresses, max(id) AS top_id FROM identities WHERE app_key = $1",
      [APP_KEY],
    );
    expect({ identities: Number(rows[0]!.identities), addresses: Number(rows[0]!.addresses) }).toEqual({ identities: IDENTITIES, addresses: IDENTITIES });
    const stored = await queryOnce<{ virtual_ip: string }>(cluster.database, "SELECT virtual_ip FROM identities WHERE app_key = $1 ORDER BY virtual_ip", [APP_KEY]);
    expect(stored.map((row) => Number(row.virtual_ip))).toEqual([...addresses].sort((a, b) => a - b));
    // Sequence values taken by inserts that lost to the UNIQUE constraint (see the header).
    const lostRaces = Number(rows[0]!.top_id) - IDENTITIES;
    // Some must have lost, or the test did not exercise the race it is about.
    expect(lostRaces).toBeGreaterThan(0);
    console.info(`${NETWORK}: ${IDENTITIES} identities through 2 nodes, ${lostRaces} inserts lost a race and looked again`);

    const again = await boundedAll(IDENTITIES, CONCURRENCY, (i) => helloOnce(otherNodeOf(i), secrets[i]!));
    expect(again).toEqual(addresses);
  }, 60_000);
});
