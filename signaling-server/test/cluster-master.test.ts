/**
 * Master services across nodes (PROTOCOL.md §15, §16): three servers share a private PostgreSQL
 * (accounts, tokens) and a private Redis; one of them, the master home named by `gmnet:masterhome`,
 * runs the services and the others forward to it. Rooms, chat, parties, presence, logins and the
 * REST face work the same from every node; when the home stops another node takes over and the
 * logins it never held end with EVENT SESSION "master_restarted". Every wait is a condition.
 */
import { Channel, ControlType, Hello, MasterStatus, PROTOCOL_VERSION, Welcome, parseIpv4 } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { type Json, MasterClient, MasterEvent, MasterOp, nextVirtualIp, uniqueAppKey } from "./support/master-client.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { useCluster } from "./support/test-cluster.js";

/** A failover is seen on each node's next liveness round (every 5 s), so its waits are longer. */
const FAILOVER_TIMEOUT_MS = 20_000;

// Every client logs in from 127.0.0.1: a limit far above the default (20) keeps it from being throttled.
const cluster = useCluster({ database: "gmnet_cluster_master", nodes: [1, 2, 3], options: { loginMaxFailuresPerAddress: 10_000 } });
const { nodes, track } = cluster;

/** The node id in gmnet:masterhome, as Redis has it. */
async function masterHome(): Promise<number> {
  return Number(await cluster.redis.call("GET", "gmnet:masterhome"));
}

/** Index into `nodes` (node id − 1) of the home, and of the nodes that are not. */
async function roles(): Promise<{ home: number; others: number[] }> {
  const home = (await masterHome()) - 1;
  expect([0, 1, 2]).toContain(home);
  return { home, others: [0, 1, 2].filter((index) => index !== home) };
}

async function connect(node: number, appKey: string): Promise<MasterClient> {
  return track(await MasterClient.connect(nodes[node]!, { appKey }));
}

/** A guest logged in on `node`, its move to the account's address taken. */
async function guestOn(node: number, appKey: string): Promise<MasterClient> {
  const client = await connect(node, appKey);
  const session = await client.guest();
  expect(await nextVirtualIp(client)).toBe(parseIpv4(session.ip as string));
  return client;
}

/** Waits for the EVENT of kind `event` whose body matches `fields`, skipping others. */
async function eventWith(client: MasterClient, event: number, fields: Json, timeoutMs = 5000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await client.nextEvent(event, Math.max(1, deadline - Date.now()));
    if (Object.entries(fields).every(([key, value]) => JSON.stringify(body[key]) === JSON.stringify(value))) return body;
  }
}

describe("master services across nodes", () => {
  it("elects one live node as the master home", async () => {
    const home = await masterHome();
    expect([1, 2, 3]).toContain(home);
    // The home's claim expires unless it is refreshed, with the liveness key's TTL (15 s).
    const ttl = Number(await cluster.redis.call("PTTL", "gmnet:masterhome"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15_000);
  });

  it("registers and logs in on every node, moving each connection to its account's address", async () => {
    const appKey = uniqueAppKey("cm-login");
    const { others } = await roles();
    for (const [i, node] of [...others, 0, 1, 2].entries()) {
      const client = await connect(node, appKey);
      const username = `player${i}n${node}`;
      expect(await client.must(MasterOp.REGISTER, { username, password: "correct horse" })).toMatchObject({ username });
      const session = await client.must(MasterOp.LOGIN, { username, password: "correct horse" });
      expect(session.username).toBe(username);
      // VIRTUAL_IP goes out before the RESPONSE, from the node that owns the connection.
      expect(await nextVirtualIp(client)).toBe(parseIpv4(session.ip as string));
    }
  });

  it("lists a room created on node 1 on node 3, joins it there, and tells members on other nodes", async () => {
    const appKey = uniqueAppKey("cm-rooms");
    const host = await guestOn(0, appKey);
    const room = await host.must(MasterOp.ROOM_CREATE, { name: "Across nodes", maxPlayers: 4, port: 7000 });
    const joiner = await guestOn(2, appKey);
    const listed = await joiner.must(MasterOp.ROOM_LIST, {});
    expect(listed).toMatchObject({ total: 1, rooms: [{ roomId: room.roomId, name: "Across nodes", host: host.username, players: 1 }] });
    const joined = await joiner.must(MasterOp.ROOM_JOIN, { roomId: room.roomId });
    // The room's address is the host's account address, stamped where the host is connected.
    expect(joined).toMatchObject({ roomId: room.roomId, players: 2, ip: host.session.ip, port: 7000 });
    expect(await eventWith(host, MasterEvent.ROOM_UPDATE, { reason: "joined", username: joiner.username })).toMatchObject({ roomId: room.roomId, players: 2 });

    const third = await guestOn(1, appKey);
    await third.must(MasterOp.ROOM_JOIN, { roomId: room.roomId });
    await eventWith(host, MasterEvent.ROOM_UPDATE, { reason: "joined", username: third.username });
    await eventWith(joiner, MasterEvent.ROOM_UPDATE, { reason: "joined", username: third.username });

    // Room chat reaches every member, on every node, the sender included.
    await joiner.must(MasterOp.CHAT_SEND, { channel: "room", text: "hello from node 3" });
    for (const member of [host, joiner, third]) {
      expect(await eventWith(member, MasterEvent.CHAT, { channel: "room" })).toMatchObject({ from: joiner.username, text: "hello from node 3", roomId: room.roomId });
    }

    // The host leaving on node 1 closes the room for the members on nodes 2 and 3.
    host.close();
    for (const member of [joiner, third]) expect(await eventWith(member, MasterEvent.ROOM_CLOSED, { roomId: room.roomId })).toMatchObject({ reason: "host_left" });
  });

  it("delivers a whisper to a user on another node, and only to them", async () => {
    const appKey = uniqueAppKey("cm-whisper");
    const { others } = await roles();
    const sender = await guestOn(others[0]!, appKey);
    const receiver = await guestOn(others[1]!, appKey);
    const bystander = await guestOn(others[0]!, appKey);
    await sender.must(MasterOp.CHAT_SEND, { channel: "whisper", to: receiver.username, text: "psst" });
    expect(await eventWith(receiver, MasterEvent.CHAT, { channel: "whisper" })).toMatchObject({ from: sender.username, to: receiver.username, text: "psst" });
    // A global message after it: once the bystander has it, a whisper would have come before.
    await sender.must(MasterOp.CHAT_SEND, { channel: "global", text: "marker" });
    expect(await bystander.nextEvent(MasterEvent.CHAT)).toMatchObject({ channel: "global", text: "marker" });
  });

  it("invites to a party across nodes and accepts it", async () => {
    const appKey = uniqueAppKey("cm-party");
    const { others } = await roles();
    const leader = await guestOn(others[0]!, appKey);
    const invitee = await guestOn(others[1]!, appKey);
    const party = await leader.must(MasterOp.PARTY_CREATE, {});
    await leader.must(MasterOp.PARTY_INVITE, { username: invitee.username });
    expect(await invitee.nextEvent(MasterEvent.PARTY_INVITE)).toEqual({ partyId: party.partyId, from: leader.username });
    expect(await invitee.must(MasterOp.PARTY_ACCEPT, { partyId: party.partyId })).toEqual({ partyId: party.partyId, leader: leader.username, members: [leader.username, invitee.username] });
    expect(await eventWith(leader, MasterEvent.PARTY_UPDATE, { reason: "joined" })).toMatchObject({ username: invitee.username, members: [leader.username, invitee.username] });
    await invitee.must(MasterOp.CHAT_SEND, { channel: "party", text: "ready" });
    expect(await eventWith(leader, MasterEvent.CHAT, { channel: "party" })).toMatchObject({ from: invitee.username, text: "ready", partyId: party.partyId });
  });

  it("lists users of every node in presence and shows one offline when its node's client disconnects", async () => {
    const appKey = uniqueAppKey("cm-presence");
    const { home, others } = await roles();
    const watcher = await guestOn(home, appKey);
    await watcher.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true });
    const first = await guestOn(others[0]!, appKey);
    const second = await guestOn(others[1]!, appKey);
    for (const user of [first, second]) await eventWith(watcher, MasterEvent.PRESENCE, { username: user.username, online: true });
    const list = await second.must(MasterOp.PRESENCE_LIST, {});
    expect(list.total).toBe(3);
    expect((list.users as Json[]).map((user) => user.username)).toEqual([watcher.username, first.username, second.username]);

    first.close();
    expect(await eventWith(watcher, MasterEvent.PRESENCE, { username: first.username, online: false })).toMatchObject({ accountId: first.accountId });
    const after = await second.must(MasterOp.PRESENCE_LIST, {});
    expect((after.users as Json[]).map((user) => user.username)).toEqual([watcher.username, second.username]);
  });

  it("ends the login on node 1 when the account logs in on node 2 (replaced, back to its device address)", async () => {
    const appKey = uniqueAppKey("cm-replace");
    const first = await connect(0, appKey);
    await first.must(MasterOp.REGISTER, { username: "twice", password: "correct horse" });
    const session = await first.must(MasterOp.LOGIN, { username: "twice", password: "correct horse" });
    const accountIp = parseIpv4(session.ip as string);
    expect(await nextVirtualIp(first)).toBe(accountIp);

    const second = await connect(1, appKey);
    await second.must(MasterOp.LOGIN, { username: "twice", password: "correct horse" });
    expect(await nextVirtualIp(second)).toBe(accountIp);
    expect(await first.nextEvent(MasterEvent.SESSION)).toEqual({ state: "ended", reason: "replaced" });
    // The device address is the one the node's WELCOME gave, before any login.
    expect(await nextVirtualIp(first)).toBe(first.client.welcome.virtualIp);
    // The replaced connection stays open and logged out.
    expect((await first.request(MasterOp.PARTY_CREATE, {})).body).toMatchObject({ error: "not_logged_in" });
  });

  it("logs a connection in from the HELLO's token on a node that is not the home", async () => {
    const appKey = uniqueAppKey("cm-hello");
    const { others } = await roles();
    const first = await guestOn(others[0]!, appKey);
    const raw = new ProtocolClient(nodes[others[1]!]!.address().wsUrl);
    await raw.opened();
    raw.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: PROTOCOL_VERSION, appKey, secret: raw.secret, token: first.session.token as string }));
    const welcome = Welcome.decode((await raw.next(Channel.CONTROL, ControlType.WELCOME)).payload);
    const resumed = new MasterClient(Object.assign(raw, { welcome }), appKey);
    track(resumed);
    expect(await nextVirtualIp(resumed)).toBe(parseIpv4(first.session.ip as string));
    expect(await resumed.nextEvent(MasterEvent.SESSION)).toMatchObject({ state: "resumed", username: first.username, accountId: first.accountId });
    expect(await first.nextEvent(MasterEvent.SESSION)).toEqual({ state: "ended", reason: "replaced" });
  });

  it("answers the REST API the same on a node that is not the home", async () => {
    const appKey = uniqueAppKey("cm-rest");
    const { home, others } = await roles();
    const host = await guestOn(home, appKey);
    const room = await host.must(MasterOp.ROOM_CREATE, { name: "Listed over HTTP", maxPlayers: 2, port: 7001 });
    const member = await guestOn(others[0]!, appKey);
    for (const index of others) {
      const response = await fetch(`${nodes[index]!.address().url}/api/rooms`, { headers: { "x-gmnet-app-key": appKey } });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ total: 1, rooms: [{ roomId: room.roomId, name: "Listed over HTTP", host: host.username }] });
    }
    // A bearer token checked on one node acts for its account's connection on another (chat needs one).
    const posted = await fetch(`${nodes[others[1]!]!.address().url}/api/chat`, {
      method: "POST",
      headers: { "x-gmnet-app-key": appKey, authorization: `Bearer ${member.session.token as string}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "global", text: "over http" }),
    });
    expect(posted.status).toBe(200);
    for (const client of [host, member]) expect(await eventWith(client, MasterEvent.CHAT, { channel: "global" })).toMatchObject({ from: member.username, text: "over http" });
  });

  it("ends the logins everywhere when the home's claim passes to another live node, the former home's own included", async () => {
    const appKey = uniqueAppKey("cm-handover");
    const { home, others } = await roles();
    const onHome = await guestOn(home, appKey);
    const elsewhere = await guestOn(others[0]!, appKey);
    const onNewHome = await guestOn(others[1]!, appKey);
    // What a Redis outage longer than the claim's TTL can leave: another live node holds the key.
    await cluster.redis.call("SET", "gmnet:masterhome", String(others[1]! + 1), "PX", 15_000);
    // Each node ends its logins once its own liveness round has seen the new home.
    for (const client of [onHome, elsewhere, onNewHome]) {
      expect(await client.nextEvent(MasterEvent.SESSION, FAILOVER_TIMEOUT_MS)).toEqual({ state: "ended", reason: "master_restarted" });
      expect(await nextVirtualIp(client)).toBe(client.client.welcome.virtualIp);
    }
    expect(await masterHome()).toBe(others[1]! + 1);
    // The former home forwards now; all log in again through the new one, which sees them all.
    for (const client of [onHome, elsewhere, onNewHome]) {
      await client.must(MasterOp.RESUME, { token: client.session.token as string });
      expect(await nextVirtualIp(client)).toBe(parseIpv4(client.session.ip as string));
    }
    const list = await onHome.must(MasterOp.PRESENCE_LIST, {});
    expect((list.users as Json[]).map((user) => user.username)).toEqual([onHome.username, elsewhere.username, onNewHome.username]);
  }, 60_000);

  it("moves the master home when its node stops; the other nodes' logins end with master_restarted and can log in again", async () => {
    const appKey = uniqueAppKey("cm-failover");
    const { home, others } = await roles();
    const survivors = [await guestOn(others[0]!, appKey), await guestOn(others[1]!, appKey)];
    await nodes[home]!.close();

    for (const client of survivors) {
      expect(await client.nextEvent(MasterEvent.SESSION, FAILOVER_TIMEOUT_MS)).toEqual({ state: "ended", reason: "master_restarted" });
      expect(await nextVirtualIp(client)).toBe(client.client.welcome.virtualIp);
    }
    const newHome = await masterHome();
    expect(others.map((index) => index + 1)).toContain(newHome);

    // The new home starts empty: nobody is online until they log in again, with the same token.
    const reply = await survivors[0]!.request(MasterOp.PRESENCE_LIST, {});
    expect(reply).toEqual({ status: MasterStatus.SUCCESS, body: { total: 0, offset: 0, users: [] } });
    for (const client of survivors) {
      const again = await client.must(MasterOp.RESUME, { token: client.session.token as string });
      expect(again.accountId).toBe(client.accountId);
      expect(await nextVirtualIp(client)).toBe(parseIpv4(client.session.ip as string));
    }
    await survivors[0]!.must(MasterOp.CHAT_SEND, { channel: "whisper", to: survivors[1]!.username, text: "still here" });
    expect(await eventWith(survivors[1]!, MasterEvent.CHAT, { channel: "whisper" })).toMatchObject({ from: survivors[0]!.username, text: "still here" });
  }, 60_000);
});
