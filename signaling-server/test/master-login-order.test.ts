/**
 * A login is a barrier in the client's frames (Session.holdFramesUntil): it moves the connection
 * to its account's address, and what the client sent after it — in the same WebSocket message,
 * before the login could finish — is handled from that address, never from the one it left.
 * Connection housekeeping (ECHO) is answered meanwhile. A real server, real WebSockets.
 */
import {
  Channel,
  ControlType,
  Datagram,
  Echo,
  MasterOp,
  MasterRequest,
  MasterResponse,
  MasterType,
  Priority,
  UdpBind,
  VSocketType,
  VirtualIp,
  encodeFrame,
} from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { barrier, nextV, sendV } from "./support/virtual-sockets.js";

const APP_KEY = "login-order";
let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES });
});
afterAll(() => server.close());

describe("frames after a login", () => {
  it("are handled from the account's address, however soon they follow it", async () => {
    const peer = await ProtocolClient.connect(server.address().wsUrl, { appKey: APP_KEY });
    const player = await ProtocolClient.connect(server.address().wsUrl, { appKey: APP_KEY });
    try {
      sendV(peer, VSocketType.UDP_BIND, UdpBind, { port: 7000 });
      await barrier(peer);
      const deviceIp = player.welcome.virtualIp;
      const datagram = (byte: number) =>
        encodeFrame(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.NORMAL, Datagram.encode({ peerIp: peer.welcome.virtualIp, peerPort: 7000, localPort: 5555, data: Uint8Array.of(byte) }));
      // One WebSocket message: the login, two datagrams and an echo request right behind it.
      player.sendRaw(
        Buffer.concat([
          encodeFrame(Channel.MASTER, MasterType.REQUEST, Priority.NORMAL, MasterRequest.encode({ reqId: 1, op: MasterOp.LOGIN_GUEST, body: new TextEncoder().encode("{}") })),
          datagram(1),
          datagram(2),
          encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.NORMAL, Echo.encode({ nonce: 9 })),
        ]),
      );
      const accountIp = (await player.nextMessage(Channel.VSOCKET, VSocketType.VIRTUAL_IP, VirtualIp)).ip;
      expect(accountIp).not.toBe(deviceIp);
      expect(MasterResponse.decode((await player.next(Channel.MASTER, MasterType.RESPONSE)).payload)).toMatchObject({ reqId: 1, status: 1 });
      for (const byte of [1, 2]) expect(await nextV(peer, VSocketType.DATAGRAM, Datagram)).toMatchObject({ peerIp: accountIp, data: Uint8Array.of(byte) });
      expect(Echo.decode((await player.next(Channel.CONTROL, ControlType.ECHO_REPLY)).payload).nonce).toBe(9);
    } finally {
      peer.close();
      player.close();
    }
  });
});
