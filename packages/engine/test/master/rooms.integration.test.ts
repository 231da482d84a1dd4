/**
 * Rooms through master_* against the real server: a host registers its game, others find it
 * with filters and paging, join within the rules, and reach the host with network_connect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestNetwork, bufferOf, startNetwork, text } from "../network/support.js";
import { FAST_HASHES, loggedIn, player, uniqueName } from "./support.js";

let network: TestNetwork;
beforeAll(async () => {
  network = await startNetwork(FAST_HASHES);
});
afterAll(async () => {
  await network.close();
});

describe("master rooms", () => {
  it("creates a room, lists it with filters, joins it and connects to the host", async () => {
    const host = await loggedIn(network, "host");
    const server = host.gm.network_create_server(host.gm.network_socket_tcp, 7000, 4);
    expect(server).toBeGreaterThanOrEqual(0);
    const tag = uniqueName("tag");
    const created = await host.must((gm) => gm.master_room_create("Dragon cave", 4, 7000, { properties: { mode: "ctf", tag } }));
    expect(created).toMatchObject({ name: "Dragon cave", players: 1, max_players: 4, has_password: false, port: 7000, host: host.name });
    expect(created.ip).toBe(host.gm.network_get_config(host.gm.network_config_virtual_ip));
    expect(host.gm.master_get_room()).toBe(created.room_id);

    const guest = await loggedIn(network, "guest");
    const found = await guest.must((gm) => gm.master_room_list({ properties: { tag } }));
    expect(found.total).toBe(1);
    const rooms = found.rooms as Array<Record<string, unknown>>;
    expect(rooms[0]).toMatchObject({ room_id: created.room_id, name: "Dragon cave", max_players: 4, properties: { mode: "ctf", tag } });
    expect((await guest.must((gm) => gm.master_room_list({ properties: { tag }, name: "CAVE" }))).total).toBe(1);
    expect((await guest.must((gm) => gm.master_room_list({ properties: { tag, mode: "dm" } }))).total).toBe(0);

    const joined = await guest.must((gm) => gm.master_room_join(created.room_id as number));
    expect(joined).toMatchObject({ room_id: created.room_id, players: 2, ip: created.ip, port: 7000 });
    const update = await host.event(host.gm.master_type_room_update, { reason: "joined" });
    expect(update).toMatchObject({ username: guest.name, players: 2 });

    const socket = guest.gm.network_create_socket(guest.gm.network_socket_tcp);
    guest.gm.network_connect_async(socket, joined.ip as string, joined.port as number);
    await guest.log.next({ type: guest.gm.network_type_non_blocking_connect, succeeded: 1 });
    const connected = await host.log.next({ type: host.gm.network_type_connect });
    const hello = bufferOf(guest.gm, "hello host");
    guest.gm.network_send_packet(socket, hello, 10);
    const data = await host.log.next({ type: host.gm.network_type_data, id: connected.socket });
    expect(text(data.bytes)).toBe("hello host");
  });

  it("pages through the public list and keeps private rooms out of it", async () => {
    const tag = uniqueName("page");
    const hosts = [];
    for (let i = 0; i < 5; i++) {
      const host = await loggedIn(network, "pager");
      await host.must((gm) => gm.master_room_create(`room ${i}`, 8, 9000 + i, { public: i !== 4, properties: { tag } }));
      hosts.push(host);
    }
    const viewer = player(network);
    const first = await viewer.must((gm) => gm.master_room_list({ properties: { tag }, limit: 2 }));
    const second = await viewer.must((gm) => gm.master_room_list({ properties: { tag }, limit: 2, offset: 2 }));
    expect(first.total).toBe(4);
    const names = [...(first.rooms as Array<{ name: string }>), ...(second.rooms as Array<{ name: string }>)].map((room) => room.name);
    expect(names).toEqual(["room 0", "room 1", "room 2", "room 3"]);
    const privateRoom = hosts[4]!.gm.master_get_room();
    const got = await viewer.must((gm) => gm.master_room_get(privateRoom));
    expect(got).toMatchObject({ name: "room 4", public: false });
  });

  it("checks passwords and capacity", async () => {
    const host = await loggedIn(network, "pwhost");
    const room = await host.must((gm) => gm.master_room_create("Locked", 2, 7001, { password: "sesame" }));
    expect(room.has_password).toBe(true);
    const a = await loggedIn(network, "a");
    const b = await loggedIn(network, "b");
    const id = room.room_id as number;
    expect(await a.ask((gm) => gm.master_room_join(id))).toMatchObject({ status: a.gm.master_status_unauthorized, error: "wrong_password" });
    expect(await a.ask((gm) => gm.master_room_join(id, "guess"))).toMatchObject({ error: "wrong_password" });
    await a.must((gm) => gm.master_room_join(id, "sesame"));
    expect(await b.ask((gm) => gm.master_room_join(id, "sesame"))).toMatchObject({ status: b.gm.master_status_failed, error: "room_full" });
    expect(await b.ask((gm) => gm.master_room_join(123))).toMatchObject({ status: b.gm.master_status_not_found, error: "room_not_found" });
    // Not logged in: joining needs a login, listing does not.
    const anonymous = player(network);
    expect(await anonymous.ask((gm) => gm.master_room_join(id, "sesame"))).toMatchObject({ status: anonymous.gm.master_status_unauthorized, error: "not_logged_in" });
    await anonymous.must((gm) => gm.master_room_list());
  });

  it("closes the room when the host leaves, and the others hear it", async () => {
    const host = await loggedIn(network, "leaver");
    const room = await host.must((gm) => gm.master_room_create("Short-lived", 4, 7002));
    const member = await loggedIn(network, "stayer");
    await member.must((gm) => gm.master_room_join(room.room_id as number));
    expect(member.gm.master_get_room()).toBe(room.room_id);
    host.gm.network_shutdown(); // the host's tab goes away
    const closed = await member.event(member.gm.master_type_room_closed);
    expect(closed).toMatchObject({ room_id: room.room_id, reason: "host_left" });
    expect(member.gm.master_get_room()).toBe(0);
    expect(await member.ask((gm) => gm.master_room_get(room.room_id as number))).toMatchObject({ error: "room_not_found" });
  });
});
