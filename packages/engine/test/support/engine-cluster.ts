/**
 * Engines on the nodes of one network (PROTOCOL.md §15), for the engine's multi-node test files:
 * the servers, their private PostgreSQL and Redis come from the signaling server's test cluster;
 * this adds engines that connect to a node and shut their network down after each test.
 * (cluster-services.ts serves the "cluster" vitest project instead: one network per engine test,
 * its nodes started by network/support.ts.)
 */
import wrtc from "@roamhq/wrtc";
import { WebSocket } from "ws";
import type { GmnetServer } from "@gmnet/signaling-server";
import { type ClusterSetup, type TestCluster, useCluster } from "../../../../signaling-server/test/support/test-cluster.js";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { EventLog } from "../network/support.js";

export interface EngineCluster extends TestCluster {
  /** A new engine on `server` (real WebRTC through @roamhq/wrtc) and the log of its async events. */
  engineOn: (server: GmnetServer) => { gm: Engine; log: EventLog };
}

export function useEngineCluster(setup: ClusterSetup & { appKey: string }): EngineCluster {
  const cluster = useCluster(setup);
  const engineOn = (server: GmnetServer): { gm: Engine; log: EventLog } => {
    const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: server.address().wsUrl, appKey: setup.appKey } });
    cluster.track({ close: () => gm.network_shutdown() });
    return { gm, log: new EventLog(gm) };
  };
  return Object.assign(cluster, { engineOn });
}
