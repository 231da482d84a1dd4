import { CloseCode, ControlType, Channel, Hello, ProtocolError, formatIpv4 } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GmnetServer, createServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";

let server: GmnetServer;
beforeAll(async () => {
  server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent" });
  await server.ready;
});
afterAll(() => server.close());

describe("hello handshake", () => {
  it("welcomes a client with a virtual IP from the configured range", async () => {
    const client = await ProtocolClient.connect(server.address().wsUrl);
    expect(formatIpv4(client.welcome.virtualIp)).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(client.welcome.version).toBe(1);
    client.close();
  });

  it("gives the same identity the same address on reconnect", async () => {
    const first = await ProtocolClient.connect(server.address().wsUrl);
    first.close();
    await first.closed();
    const again = await ProtocolClient.connect(server.address().wsUrl, { secret: first.secret });
    expect(again.welcome.virtualIp).toBe(first.welcome.virtualIp);
    again.close();
  });

  it("refuses another protocol version with VERSION_MISMATCH and close code 4500", async () => {
    const client = new ProtocolClient(server.address().wsUrl);
    await client.opened();
    client.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: 999, appKey: "x", secret: client.secret, token: "" }));
    expect((await client.nextError()).code).toBe(ProtocolError.VERSION_MISMATCH);
    expect(await client.closed()).toBe(CloseCode.VERSION_MISMATCH);
  });
});
