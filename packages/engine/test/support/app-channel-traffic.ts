/**
 * App-channel traffic for the resume tests and the soak: a raw client (legacy HELLO, no resume)
 * that registers one app channel and sends a small frame on it every 10 ms, counting what it gets
 * from the others; when its connection drops it comes back and registers again.
 */
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { Channel, ChannelAssigned, ChannelRegister, ControlType, FrameDecoder, Hello, PROTOCOL_VERSION, Priority, concatFrames, encodeFrame } from "@gmnet/protocol";

export function appChannelClient(url: string, appKey: string, name = "soak") {
  const secret = randomBytes(24).toString("base64url");
  const stats = { sent: 0, received: 0, reconnects: 0 };
  let ws: WebSocket | undefined;
  let channel = 0;
  let stopped = false;
  const open = (): void => {
    const socket = new WebSocket(url);
    ws = socket;
    channel = 0;
    const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
    socket.on("open", () => {
      const hello = encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey, secret, token: "" }));
      const register = encodeFrame(Channel.CONTROL, ControlType.CHANNEL_REGISTER, Priority.HIGH, ChannelRegister.encode({ name }));
      socket.send(concatFrames([hello, register]));
    });
    socket.on("message", (data: Buffer) => {
      for (const frame of decoder.push(new Uint8Array(data))) {
        if (frame.channel === Channel.CONTROL && frame.type === ControlType.CHANNEL_ASSIGNED) channel = ChannelAssigned.decode(frame.payload).channel;
        else if (frame.channel >= Channel.FIRST_APP) stats.received++;
        else if (frame.channel === Channel.CONTROL && frame.type === ControlType.PING) socket.send(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, frame.payload));
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (stopped) return;
      stats.reconnects++;
      setTimeout(open, 20);
    });
  };
  open();
  const timer = setInterval(() => {
    if (ws?.readyState !== WebSocket.OPEN || channel === 0) return;
    ws.send(encodeFrame(channel, 1, Priority.NORMAL, new Uint8Array(24)));
    stats.sent++;
  }, 10);
  return {
    stats,
    stop(): void {
      stopped = true;
      clearInterval(timer);
      ws?.terminate();
    },
  };
}

