/** Every VSOCKET message a client may send, malformed: an ERROR, and the connection stays usable. */
import { Channel, ControlType, ProtocolError, VSocketType, nameOf } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { barrier, useServer } from "./support/virtual-sockets.js";

const net = useServer();

const u32 = [1, 0, 0, 0];
const cases: Array<[type: number, payload: number[]]> = [
  [VSocketType.RESOLVE_REQUEST, [1, 0, 0]], // cut off inside reqId
  [VSocketType.RESOLVE_REQUEST, [...u32, 5, 0, 104, 105]], // string longer than the payload
  [VSocketType.HOSTNAME_CLAIM, [...u32, 2, 0, 0xc3, 0x28]], // invalid UTF-8
  [VSocketType.HOSTNAME_CLAIM, [...u32, 65, 0, ...new Array<number>(65).fill(97)]], // longer than 64 bytes
  [VSocketType.SOCKET_STATUS_REQUEST, [...u32, ...u32, 80, 0, 1]], // 11 of 12 bytes
  [VSocketType.SOCKET_CONNECTION_REQUEST, [...u32, ...u32, 80, 0, 1, 0, 0]], // trailing byte
  [VSocketType.SOCKET_STATUS_RESPONSE, [...u32, 2]], // boolean 2
  [VSocketType.SOCKET_CONNECTION_RESPONSE, [...u32]], // no boolean
  [VSocketType.ARBITRARY_DATA, [...u32, 1, 0, 0]], // 7 of 8 header bytes
  [VSocketType.ARBITRARY_DATA, []],
  [VSocketType.SOCKET_CLOSED, [...u32]], // no reason
  [VSocketType.UDP_BIND, [1]],
  [VSocketType.UDP_UNBIND, [1, 0, 0]],
  [VSocketType.DATAGRAM, [...u32, 1, 0, 1]], // 7 of 8 header bytes
  [VSocketType.BROADCAST, [1, 0, 1]], // 3 of 4 header bytes
];

describe("malformed VSOCKET payloads", () => {
  it.each(cases.map(([type, payload]) => [nameOf(VSocketType, type), type, payload] as const))(
    "%s: MALFORMED_PAYLOAD, then the connection works",
    async (_name, type, payload) => {
      const client = await net.client();
      client.send(Channel.VSOCKET, type, Uint8Array.from(payload));
      expect(await client.nextError()).toMatchObject({ code: ProtocolError.MALFORMED_PAYLOAD, refChannel: Channel.VSOCKET, refType: type });
      await barrier(client);
      expect(client.closeCode).toBeUndefined();
    },
  );

  it("answers a packet type the server never receives with UNKNOWN_PACKET_TYPE", async () => {
    const client = await net.client();
    for (const type of [VSocketType.RESOLVE_RESPONSE, VSocketType.SOCKET_CONNECTED, VSocketType.REQUEST_FAILED, 99]) {
      client.send(Channel.VSOCKET, type, new Uint8Array(8));
      expect(await client.nextError()).toMatchObject({ code: ProtocolError.UNKNOWN_PACKET_TYPE, refChannel: Channel.VSOCKET, refType: type });
    }
    await barrier(client);
    expect(client.frames.filter((frame) => frame.channel === Channel.CONTROL && frame.type === ControlType.ERROR)).toEqual([]);
  });
});
