/**
 * An engine against a server from before resume (PROTOCOL.md §14): such a server answers the
 * RESUME that rides with HELLO with ERROR UNKNOWN_PACKET_TYPE. The engine must carry on with a
 * plain session at once, not wait for a RESUMED that never comes.
 */
import { afterEach, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { Channel, ControlType, ErrorMessage, FrameDecoder, PROTOCOL_VERSION, Priority, ProtocolError, Welcome, encodeFrame } from "@gmnet/protocol";
import { createEngine, createMemoryStorage } from "../../src/index.js";
import { EventLog } from "./support.js";

let wss: WebSocketServer | undefined;
afterEach(() => new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve())));

it("falls back to a plain session when the server does not know RESUME", async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => wss!.once("listening", resolve));
  const seen: number[] = [];
  wss.on("connection", (socket) => {
    const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
    socket.on("message", (data: Buffer) => {
      for (const frame of decoder.push(new Uint8Array(data))) {
        if (frame.channel !== Channel.CONTROL) continue;
        seen.push(frame.type);
        if (frame.type === ControlType.HELLO) {
          const welcome = Welcome.encode({ version: PROTOCOL_VERSION, virtualIp: 0x0a000007, sessionId: "old", heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 60_000, tickRate: 60, maxFrameSize: 1 << 18, serverTime: 0 });
          socket.send(encodeFrame(Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL, welcome));
        } else if (frame.type === ControlType.RESUME) {
          const error = ErrorMessage.encode({ code: ProtocolError.UNKNOWN_PACKET_TYPE, refChannel: Channel.CONTROL, refType: ControlType.RESUME, refId: 0, message: "channel 0 has no packet type 10" });
          socket.send(encodeFrame(Channel.CONTROL, ControlType.ERROR, Priority.CRITICAL, error));
        }
      }
    });
  });
  const port = (wss.address() as { port: number }).port;
  const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, signalingUrl: `ws://127.0.0.1:${port}/ws`, appKey: "old" } });
  const log = new EventLog(gm);
  try {
    gm.network_create_server(gm.network_socket_tcp, 6510, 2);
    const up = await log.next({ type: gm.network_type_up }, 3000);
    expect(up.ip).toBe("10.0.0.7");
    expect(seen.slice(0, 2)).toEqual([ControlType.HELLO, ControlType.RESUME]);
  } finally {
    gm.network_shutdown();
  }
});
