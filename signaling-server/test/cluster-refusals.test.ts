/**
 * What a node does with a message it cannot carry to another node (PROTOCOL.md §15, the outbound
 * bound): it never drops it silently. Node 1 runs with a --redis-outbound-max-bytes smaller than
 * any bus message, so every message it sends another node is refused at once; node 2 is normal
 * and, started first, runs the master services. A SIGNAL RELAY to a client on node 2 comes back
 * NOT_A_PARTICIPANT (as for an address nobody holds) and a master request is answered
 * NOT_CONNECTED ("try again") at once, not at the forwarder's timeout.
 */
import { Channel, MasterOp, ProtocolError, SignalKind, SignalRelay, SignalType } from "@gmnet/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { MasterClient } from "./support/master-client.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { useCluster } from "./support/test-cluster.js";
import { barrier } from "./support/virtual-sockets.js";

const APP_KEY = "cluster-refusals";
/** Far longer than the answer may take: the test shows the refusal does not wait for it. */
const MASTER_TIMEOUT_MS = 30_000;

const cluster = useCluster({ database: "gmnet_cluster_refusals", options: { masterRequestTimeoutMs: MASTER_TIMEOUT_MS } });
const { track } = cluster;
let home: GmnetServer | undefined;
let starved: GmnetServer | undefined;

beforeAll(async () => {
  // Started first, node 2 is elected to run the master services.
  home = await cluster.startNode(2);
  expect(await cluster.redis.call("GET", "gmnet:masterhome")).toBe("2");
  starved = await cluster.startNode(1, { redisOutboundMaxBytes: 1 });
}, 120_000);

describe("a message that cannot be carried to another node", () => {
  it("a SIGNAL RELAY is refused NOT_A_PARTICIPANT with its pairId", async () => {
    const target = await ProtocolClient.connect(home!.address().wsUrl, { appKey: APP_KEY });
    const sender = await ProtocolClient.connect(starved!.address().wsUrl, { appKey: APP_KEY });
    track(target);
    track(sender);
    // The barrier returns after each route is written, so node 1 finds the target on node 2.
    await Promise.all([barrier(target), barrier(sender)]);
    sender.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp: target.welcome.virtualIp, pairId: 41, kind: SignalKind.OFFER, data: "{}" }));
    expect(await sender.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refChannel: Channel.SIGNAL, refType: SignalType.RELAY, refId: 41 });
  });

  it("a master request is answered NOT_CONNECTED at once, well before the request timeout", async () => {
    const client = await MasterClient.connect(starved!, { appKey: APP_KEY });
    track(client);
    const reply = await client.request(MasterOp.ROOM_LIST, {});
    // 7 NOT_CONNECTED (docs/MASTER.md's status table); waiting for the home would have ended in TIMEOUT after 30 s.
    expect(reply.status).toBe(7);
    expect(reply.body).toMatchObject({ error: "not_connected" });
  });
});
