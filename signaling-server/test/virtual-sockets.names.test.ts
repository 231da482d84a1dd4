/** RESOLVE_REQUEST and HOSTNAME_CLAIM. */
import { CloseReason, HostnameClaim, ProtocolError, SocketClosed, VSocketType, formatIpv4 } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { claim, connectPair, newReqId, nextV, resolve, sendV, useServer } from "./support/virtual-sockets.js";

const net = useServer();

describe("resolve", () => {
  it("answers a dotted address held by a live client of the app, and 0 for one nobody holds", async () => {
    const a = await net.client();
    const b = await net.client();
    expect(await resolve(a, formatIpv4(b.welcome.virtualIp))).toBe(b.welcome.virtualIp);
    expect(await resolve(a, formatIpv4(a.welcome.virtualIp))).toBe(a.welcome.virtualIp);
    expect(await resolve(a, "10.255.255.253")).toBe(0);
    expect(await resolve(a, "10.0.0.256")).toBe(0);
    expect(await resolve(a, "")).toBe(0);
  });

  it("answers a claimed host name, case-insensitively, and 0 for an unknown one", async () => {
    const a = await net.client();
    const b = await net.client();
    expect(await claim(b, "Lobby-1.example")).toBe(true);
    expect(await resolve(a, "lobby-1.example")).toBe(b.welcome.virtualIp);
    expect(await resolve(a, "LOBBY-1.EXAMPLE")).toBe(b.welcome.virtualIp);
    expect(await resolve(a, "lobby-2.example")).toBe(0);
  });
});

describe("host names", () => {
  it("refuses a name another client holds, and frees it when the holder leaves", async () => {
    const holder = await net.client();
    const other = await net.client();
    expect(await claim(holder, "arena")).toBe(true);
    expect(await claim(holder, "arena")).toBe(true); // claiming one's own name again is fine
    expect(await claim(other, "ARENA")).toBe(false);
    expect(await resolve(other, "arena")).toBe(holder.welcome.virtualIp);

    // The stream's PEER_GONE tells `other` that the server has removed the holder.
    const pair = await connectPair(other, holder);
    holder.close();
    expect(await nextV(other, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
    expect(await resolve(other, "arena")).toBe(0);
    expect(await claim(other, "arena")).toBe(true);
    expect(await resolve(other, "arena")).toBe(other.welcome.virtualIp);
  });

  it("lets a client hold one name: claiming another releases the first", async () => {
    const a = await net.client();
    const b = await net.client();
    expect(await claim(a, "first-name")).toBe(true);
    expect(await claim(a, "second-name")).toBe(true);
    expect(await resolve(b, "first-name")).toBe(0);
    expect(await claim(b, "first-name")).toBe(true);
  });

  it.each([
    ["an empty name", ""],
    ["a leading dot", ".lobby"],
    ["a leading hyphen", "-lobby"],
    ["a space", "my lobby"],
    ["an underscore", "my_lobby"],
    ["non-ASCII letters", "lobbé"],
    ["64 characters", "a".repeat(64)],
    ["an IPv4 address", "10.1.2.3"],
  ])("refuses %s with MALFORMED_PAYLOAD naming the claim", async (_what, name) => {
    const a = await net.client();
    const reqId = newReqId();
    sendV(a, VSocketType.HOSTNAME_CLAIM, HostnameClaim, { reqId, name });
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.MALFORMED_PAYLOAD, refType: VSocketType.HOSTNAME_CLAIM, refId: reqId });
    expect(await claim(a, `ok-${reqId}`)).toBe(true);
  });

  it("accepts 63 characters of letters, digits, dots and hyphens", async () => {
    const a = await net.client();
    const name = `A9.b-${"x".repeat(58)}`;
    expect(name).toHaveLength(63);
    expect(await claim(a, name)).toBe(true);
  });
});
