/**
 * The master services in Chromium, two browser contexts against the real server: one page logs
 * in and hosts a room for its game server, the other logs in, finds the room in the list, joins
 * it, connects to the host with network_connect, and the two chat — in the room's chat channel
 * and over their own TCP connection.
 */
import { type Peer, expect, network_type_connect, network_type_data, network_type_non_blocking_connect, nextEvent, randomPort, sendText, test } from "../support/network.js";

/** async_load[? "type"] of master results and pushed chat (docs/MASTER.md). */
const master_type_response = 1;
const master_type_chat = 2;
const master_type_room_update = 5;
const ev_async_social = 70;

/** Runs `call` (a gm.master_* call, by name, with arguments) in the page and waits for its response event. */
async function ask(peer: Peer, name: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  const id = await peer.page.evaluate(({ name, args }) => (globalThis.gmnet as unknown as Record<string, (...a: unknown[]) => number>)[name]!(...args), { name, args });
  expect(id, `${peer.name}: ${name} returns a request id`).toBeGreaterThan(0);
  const response = await nextEvent(peer, { type: master_type_response, id });
  expect(response, `${peer.name}: ${name}`).toMatchObject({ event_type: ev_async_social, succeeded: true, error: "" });
  return response;
}

async function signUp(peer: Peer, name: string): Promise<Record<string, unknown>> {
  await ask(peer, "master_register", name, "correct horse battery");
  return ask(peer, "master_login", name, "correct horse battery");
}

test("one page hosts a room, the other finds it, joins, connects with network_connect, and they chat", async ({ openPeer }) => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const [host, guest] = [await openPeer("host"), await openPeer("guest")];
  const hostLogin = await signUp(host, `host_${suffix}`);
  const guestLogin = await signUp(guest, `guest_${suffix}`);
  expect(hostLogin.ip).not.toBe(guestLogin.ip);

  // The host's game listens on a virtual port, then registers the room bound to it.
  const port = randomPort();
  expect(await host.page.evaluate((port) => globalThis.gmnet.network_create_server(globalThis.gmnet.network_socket_tcp, port, 8), port)).toBeGreaterThanOrEqual(0);
  const room = await ask(host, "master_room_create", `Arena ${suffix}`, 4, port, { properties: { map: "dunes", build: suffix } });
  expect(room).toMatchObject({ ip: hostLogin.ip, port, players: 1, max_players: 4, host: `host_${suffix}` });

  // The guest finds it by a custom property and joins; the host hears of it.
  const list = await ask(guest, "master_room_list", { properties: { build: suffix }, not_full: true });
  expect(list.total).toBe(1);
  expect((list.rooms as Array<Record<string, unknown>>)[0]).toMatchObject({ room_id: room.room_id, name: `Arena ${suffix}`, players: 1 });
  const joined = await ask(guest, "master_room_join", room.room_id);
  expect(joined).toMatchObject({ ip: hostLogin.ip, port, players: 2 });
  expect(await nextEvent(host, { type: master_type_room_update, reason: "joined" })).toMatchObject({ username: `guest_${suffix}`, players: 2 });

  // The guest reaches the host's game server at the address the room gave.
  const socket = await guest.page.evaluate(({ ip, port }) => {
    const gm = globalThis.gmnet;
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    gm.network_connect_async(socket, ip, port);
    return socket;
  }, { ip: joined.ip as string, port });
  expect(await nextEvent(guest, { type: network_type_non_blocking_connect, id: socket })).toMatchObject({ succeeded: 1, ip: hostLogin.ip, port });
  const accepted = await nextEvent(host, { type: network_type_connect });
  expect(accepted.ip).toBe(guestLogin.ip);

  // They chat in the room's channel: both see both lines, in order.
  await ask(guest, "master_chat_send", 1, "hi host!");
  await ask(host, "master_chat_send", 1, "welcome, guest");
  for (const peer of [host, guest]) {
    expect(await nextEvent(peer, { type: master_type_chat, text: "hi host!" })).toMatchObject({ channel: 1, from: `guest_${suffix}`, room_id: room.room_id });
    expect(await nextEvent(peer, { type: master_type_chat, text: "welcome, guest" })).toMatchObject({ channel: 1, from: `host_${suffix}` });
  }

  // And over their own game connection.
  expect((await sendText(guest, socket, "ready")).sent).toBeGreaterThan(0);
  expect(await nextEvent(host, { type: network_type_data, id: accepted.socket as number })).toMatchObject({ text: "ready" });
});
