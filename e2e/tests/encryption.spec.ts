/**
 * End-to-end payload encryption in Chromium (docs/NETWORK.md "Encryption"): three browser
 * contexts, three "machines" of the same game. Two share the game's secret and chat on an app
 * channel and over a virtual TCP stream, sealed with AES-GCM by WebCrypto in the page; the third
 * has another secret and reads nothing: its engine drops what it cannot open and says so with
 * E_NETWORK_DECRYPT, and a stream it opens to one of the others ends with that code.
 *
 * The key is PBKDF2-SHA-256 over the secret (100 000 iterations): each page derives it once,
 * which the event for the key setting announces. Every wait is for an event, inside the page.
 */
import type { Peer } from "../support/network.js";
import { connectTcp, expect, network_type_data, network_type_disconnect, network_type_non_blocking_connect, nextEvent, randomPort, sendText, test } from "../support/network.js";

const network_type_channel = 103;
const network_type_channel_data = 104;
const network_type_encryption = 108;
const SECRET = "the old mill at midnight";
const OTHER_SECRET = "a guess that is wrong";

/** Sets the page's key, waits until WebCrypto derived it, then turns shared encryption on. */
async function encrypt(peer: Peer, secret: string): Promise<void> {
  const request = await peer.page.evaluate((secret) => globalThis.gmnet.network_set_config(globalThis.gmnet.network_config_encryption_key, secret), secret);
  expect(await nextEvent(peer, { type: network_type_encryption, id: request }), `${peer.name}: the key is derived`).toMatchObject({ succeeded: 1 });
  await peer.page.evaluate(() => globalThis.gmnet.network_set_config(globalThis.gmnet.network_config_encryption, globalThis.gmnet.network_encryption_shared));
  // Never read back: the secret stays in the engine.
  expect(await peer.page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_encryption_key))).not.toContain(secret);
}

async function joinChannel(peer: Peer, name: string): Promise<number> {
  const request = await peer.page.evaluate((name) => globalThis.gmnet.network_channel_register(name), name);
  const answer = await nextEvent(peer, { type: network_type_channel, id: request });
  expect(answer, `${peer.name}: ${name} registered`).toMatchObject({ succeeded: 1 });
  return answer.channel as number;
}

/** Sends `text` (buffer_string) on the app channel; returns what network_channel_send returned. */
async function say(peer: Peer, channel: number, text: string): Promise<number> {
  return (await sendText(peer, { channel }, text)).sent;
}

test("two pages with the game's secret chat encrypted; a third with another secret reads nothing and is told why", async ({ openPeer }) => {
  const ann = await openPeer("ann");
  const bob = await openPeer("bob");
  const eve = await openPeer("eve");
  await Promise.all([encrypt(ann, SECRET), encrypt(bob, SECRET), encrypt(eve, OTHER_SECRET)]);

  // An app channel of this test's own (other tests' pages share the app key).
  const name = `secret-chat-${Math.random().toString(36).slice(2, 10)}`;
  const [channel, bobChannel, eveChannel] = await Promise.all([joinChannel(ann, name), joinChannel(bob, name), joinChannel(eve, name)]);
  expect([bobChannel, eveChannel]).toEqual([channel, channel]);
  // Read, not awaited as network_type_up: connectTcp below waits for that event itself.
  const annIp = (await ann.page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_virtual_ip))) as string;

  const line = "meet at the old mill ✓";
  expect(await say(ann, channel, line)).toBeGreaterThan(0);
  expect(await nextEvent(bob, { type: network_type_channel_data, channel })).toMatchObject({ ip: annIp, text: line });
  // Eve's engine could not open it: no data event, a report instead, and the counter.
  expect(await nextEvent(eve, { type: network_type_encryption, id: -1 })).toMatchObject({ succeeded: 0, error: "E_NETWORK_DECRYPT", kind: "channel", ip: annIp, channel });
  const reply = "on my way";
  expect(await say(bob, channel, reply)).toBeGreaterThan(0);
  expect(await nextEvent(ann, { type: network_type_channel_data, channel })).toMatchObject({ text: reply });
  await expect
    .poll(() => eve.page.evaluate(() => (globalThis.gmnet.network_get_stats(-1) as { decrypt_failures?: number }).decrypt_failures))
    .toBeGreaterThanOrEqual(2);
  expect(await eve.page.evaluate(() => globalThis.gmnetE2e!.seen.filter((event) => event.type === 104).length)).toBe(0);

  // A virtual TCP stream between the two who share the secret carries packets both ways.
  const tcp = await connectTcp(ann, bob);
  await sendText(bob, tcp.clientSocket, "sealed packet");
  expect(await nextEvent(ann, { type: network_type_data, id: tcp.accepted })).toMatchObject({ text: "sealed packet" });
  await sendText(ann, tcp.accepted, "sealed answer");
  expect(await nextEvent(bob, { type: network_type_data, id: tcp.clientSocket })).toMatchObject({ text: "sealed answer" });

  // Eve connects to Ann's server: the GameMaker handshake is sealed too, so the stream ends, named.
  const port = randomPort();
  await ann.page.evaluate((port) => globalThis.gmnet.network_create_server(globalThis.gmnet.network_socket_tcp, port, 4), port);
  const socket = await eve.page.evaluate(
    ({ ip, port }) => {
      const gm = globalThis.gmnet;
      const socket = gm.network_create_socket(gm.network_socket_tcp);
      gm.network_connect_async(socket, ip, port);
      return socket;
    },
    { ip: annIp, port },
  );
  // The connect fails, or (if the stream opened first) the socket is disconnected: either way, named.
  const ended = await eve.page.evaluate(
    async ({ socket, failed, disconnect }) => {
      const log = globalThis.gmnetE2e!;
      const deadline = performance.now() + 10_000;
      for (;;) {
        log.drain();
        const event = log.seen.find((seen) => seen.id === socket && ((seen.type === failed && seen.succeeded === 0) || seen.type === disconnect));
        if (event !== undefined) return event;
        if (performance.now() > deadline) throw new Error(`eve's socket neither failed nor ended: ${JSON.stringify(log.seen.slice(-5))}`);
        await globalThis.gmnet.async_event_wait(deadline - performance.now());
      }
    },
    { socket, failed: network_type_non_blocking_connect, disconnect: network_type_disconnect },
  );
  expect(ended.error).toBe("E_NETWORK_DECRYPT");
  expect(await eve.page.evaluate(() => globalThis.gmnetE2e!.seen.filter((event) => event.type === 3).length)).toBe(0);
});
