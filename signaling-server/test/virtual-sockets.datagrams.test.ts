/** UDP over the server: bind/unbind, unicast with a stamped source, drops, broadcast. */
import { Broadcast, Channel, Datagram, Priority, ProtocolError, UdpBind, VSocketType } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { type Client, barrier, errorsOf, nextV, pendingV, sendV, useServer } from "./support/virtual-sockets.js";

const net = useServer();

const bind = (client: Client, port: number) => sendV(client, VSocketType.UDP_BIND, UdpBind, { port });
const unbind = (client: Client, port: number) => sendV(client, VSocketType.UDP_UNBIND, UdpBind, { port });
const datagram = (from: Client, to: Client, peerPort: number, localPort: number, data: number[]) =>
  sendV(from, VSocketType.DATAGRAM, Datagram, { peerIp: to.welcome.virtualIp, peerPort, localPort, data: Uint8Array.from(data) });

/** Bound ports take effect in order with the client's later frames; a barrier makes them visible to others. */
async function bindNow(client: Client, ...ports: number[]): Promise<void> {
  for (const port of ports) bind(client, port);
  await barrier(client);
}

async function droppedNoListener(): Promise<number> {
  const text = await (await fetch(`${net.server.address().url}/metrics`)).text();
  const match = /gmnet_dropped_frames_total\{reason="no-listener"\} (\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

describe("datagrams", () => {
  it("delivers a datagram to a bound port with the sender's real address, at low priority", async () => {
    const a = await net.client();
    const b = await net.client();
    await bindNow(b, 7000);
    datagram(a, b, 7000, 5555, [1, 2, 3]);
    const frame = await b.next(Channel.VSOCKET, VSocketType.DATAGRAM);
    expect(frame.priority).toBe(Priority.LOW);
    expect(Datagram.decode(frame.payload)).toEqual({ peerIp: a.welcome.virtualIp, peerPort: 5555, localPort: 7000, data: Uint8Array.from([1, 2, 3]) });
  });

  it("stamps the source even when the sender puts another client's address in the packet", async () => {
    const a = await net.client();
    const b = await net.client();
    const victim = await net.client();
    await bindNow(b, 7000);
    // peerIp is the destination on the way in; there is no field a sender could use to pose as victim.
    datagram(a, b, 7000, 5555, [1]);
    const received = await nextV(b, VSocketType.DATAGRAM, Datagram);
    expect(received.peerIp).toBe(a.welcome.virtualIp);
    expect(received.peerIp).not.toBe(victim.welcome.virtualIp);
  });

  it("drops datagrams to an unbound port, an unbound client or an offline address, counting them", async () => {
    const a = await net.client();
    const b = await net.client();
    await bindNow(b, 7000);
    const before = await droppedNoListener();
    datagram(a, b, 7001, 5555, [1]);
    datagram(a, a, 7000, 5555, [2]);
    sendV(a, VSocketType.DATAGRAM, Datagram, { peerIp: 0x0afffffd, peerPort: 7000, localPort: 5555, data: new Uint8Array([3]) });
    datagram(a, b, 7000, 5555, [4]);
    // Same lane, same order: had anything else been delivered to b, it would come first.
    expect((await nextV(b, VSocketType.DATAGRAM, Datagram)).data).toEqual(Uint8Array.from([4]));
    expect(pendingV(b, VSocketType.DATAGRAM)).toHaveLength(0);
    expect(pendingV(a, VSocketType.DATAGRAM)).toHaveLength(0);
    expect(errorsOf(a)).toEqual([]);
    expect(await droppedNoListener()).toBe(before + 3);
  });

  it("stops delivering after UDP_UNBIND, and when bound twice needs only one unbind", async () => {
    const a = await net.client();
    const b = await net.client();
    await bindNow(b, 7000, 7000, 7002);
    unbind(b, 7000);
    unbind(b, 7003); // never bound: nothing to do
    await barrier(b);
    datagram(a, b, 7000, 5555, [1]);
    datagram(a, b, 7002, 5555, [2]);
    const received = await nextV(b, VSocketType.DATAGRAM, Datagram);
    expect(received).toMatchObject({ localPort: 7002, data: Uint8Array.from([2]) });
    expect(errorsOf(b)).toEqual([]);
  });

  it("delivers a datagram a client sends to its own bound port", async () => {
    const a = await net.client();
    await bindNow(a, 7000);
    datagram(a, a, 7000, 7000, [9]);
    expect(await nextV(a, VSocketType.DATAGRAM, Datagram)).toMatchObject({ peerIp: a.welcome.virtualIp, peerPort: 7000, localPort: 7000 });
  });

  it("refuses port 0 in UDP_BIND, UDP_UNBIND, DATAGRAM and BROADCAST with INVALID_PORT", async () => {
    const a = await net.client();
    const b = await net.client();
    bind(a, 0);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.UDP_BIND });
    unbind(a, 0);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.UDP_UNBIND });
    datagram(a, b, 0, 5555, [1]);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.DATAGRAM });
    datagram(a, b, 7000, 0, [1]);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.DATAGRAM });
    sendV(a, VSocketType.BROADCAST, Broadcast, { port: 0, localPort: 5555, data: new Uint8Array(0) });
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.BROADCAST });
  });
});

describe("broadcast", () => {
  it("reaches every other bound client of the app key, not the sender, not unbound clients", async () => {
    const sender = await net.client();
    const listeners = [await net.client(), await net.client(), await net.client()];
    const elsewhere = await net.client(); // bound to another port
    const latecomer = await net.client();
    await bindNow(sender, 9000);
    for (const listener of listeners) await bindNow(listener, 9000);
    await bindNow(elsewhere, 9001);
    await bindNow(latecomer, 9000);

    sendV(sender, VSocketType.BROADCAST, Broadcast, { port: 9000, localPort: 4444, data: Uint8Array.from([7, 7]) });
    for (const listener of [...listeners, latecomer]) {
      expect(await nextV(listener, VSocketType.DATAGRAM, Datagram)).toEqual({ peerIp: sender.welcome.virtualIp, peerPort: 4444, localPort: 9000, data: Uint8Array.from([7, 7]) });
    }
    // The broadcast has been handled; a datagram sent now to the sender and to `elsewhere`
    // arrives after anything the broadcast queued for them, so it must be the first they see.
    await barrier(sender);
    const probe = listeners[0]!;
    datagram(probe, sender, 9000, 1, [1]);
    datagram(probe, elsewhere, 9001, 1, [1]);
    for (const client of [sender, elsewhere]) {
      expect(await nextV(client, VSocketType.DATAGRAM, Datagram)).toMatchObject({ peerIp: probe.welcome.virtualIp, peerPort: 1 });
    }
  });

  it("forgets a client's bindings when it leaves: after reconnecting it must bind again", async () => {
    const a = await net.client();
    const b = await net.client();
    await bindNow(b, 9000);
    b.close();
    // Same identity, same address; the old session is gone (or replaced) before this one is welcomed.
    const again = await net.client("test-app", { secret: b.secret });
    expect(again.welcome.virtualIp).toBe(b.welcome.virtualIp);
    datagram(a, again, 9000, 1, [1]);
    sendV(a, VSocketType.BROADCAST, Broadcast, { port: 9000, localPort: 1, data: Uint8Array.from([2]) });
    await barrier(a);
    await bindNow(again, 9000);
    datagram(a, again, 9000, 1, [3]);
    expect((await nextV(again, VSocketType.DATAGRAM, Datagram)).data).toEqual(Uint8Array.from([3]));
  });
});
