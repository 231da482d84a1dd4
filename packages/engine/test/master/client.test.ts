/**
 * The engine's master client against a stand-in server (fake-server.ts), so every outcome can be
 * produced on purpose: answers that never come, late answers, dropped connections, VIRTUAL_IP
 * moves and HELLO resumes. Needs no master service on the server side.
 */
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import {
  ArbitraryData,
  Channel,
  ControlType,
  HostnameClaim,
  HostnameResult,
  MasterEvent,
  MasterOp,
  MasterStatus,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  UdpBind,
  VSocketType,
  formatIpv4,
} from "@gmnet/protocol";
import { useCleanup } from "../../../../signaling-server/test/support/cleanup.js";
import { freePort } from "../../../../signaling-server/test/support/free-port.js";
import { EventLog } from "../network/support.js";
import { startFakeServer } from "./fake-server.js";

const ACCOUNT_IP = 0x0ac80001; // 10.200.0.1
const SESSION = { accountId: 5, username: "ann", guest: false, token: "token-ann", expiresInMs: 86_400_000, ip: "10.200.0.1" };

const afterTest = useCleanup();

function engineAt(url: string): { gm: Engine; log: EventLog } {
  const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, signalingUrl: url, appKey: "master-client" } });
  afterTest(() => gm.network_shutdown());
  return { gm, log: new EventLog(gm) };
}

async function connected() {
  const server = await startFakeServer();
  afterTest(() => server.close());
  const { gm, log } = engineAt(server.url);
  return { gm, log, server };
}

const responses = (gm: Engine, log: EventLog, id: number) => log.seen.filter((event) => event.type === gm.master_type_response && event.id === id && event.event_type === gm.ev_async_social);

describe("master client outcomes made by the engine", () => {
  it("ends a request that gets no answer with exactly one TIMEOUT, and ignores the late answer", async () => {
    const { gm, log, server } = await connected();
    gm.master_set_timeout(100);
    const id = gm.master_room_list();
    expect(id).toBeGreaterThan(0);
    const connection = await server.nextConnection();
    const call = await connection.request(MasterOp.ROOM_LIST);
    const timedOut = await log.next({ type: gm.master_type_response, id });
    expect(timedOut).toMatchObject({ event_type: gm.ev_async_social, op: gm.master_op_room_list, status: gm.master_status_timeout, succeeded: false, error: "timeout" });
    expect(timedOut.message).toContain("100 ms");

    // The answer comes after all; a second request answered on the same connection proves it was read.
    connection.respond(call, MasterStatus.SUCCESS, { total: 0, offset: 0, rooms: [] });
    gm.master_set_timeout(5000);
    const second = gm.master_room_list();
    connection.respond(await connection.request(MasterOp.ROOM_LIST), MasterStatus.SUCCESS, { total: 0, offset: 0, rooms: [] });
    expect(await log.next({ type: gm.master_type_response, id: second })).toMatchObject({ status: gm.master_status_success, succeeded: true });
    log.drain();
    expect(responses(gm, log, id)).toHaveLength(1);
  });

  it("answers NOT_CONNECTED when the server cannot be reached", async () => {
    const { gm, log } = engineAt(`ws://127.0.0.1:${await freePort()}/ws`);
    const id = gm.master_login("ann", "correct horse");
    expect(await log.next({ type: gm.master_type_response, id })).toMatchObject({
      event_type: gm.ev_async_social,
      op: gm.master_op_login,
      status: gm.master_status_not_connected,
      succeeded: false,
      error: "not_connected",
    });
    await log.next({ type: gm.network_type_up_failed });
    expect(gm.master_logged_in()).toBe(false);
  });

  it("answers NOT_CONNECTED for every request in flight when the connection drops", async () => {
    const { gm, log, server } = await connected();
    const first = gm.master_party_create();
    const second = gm.master_presence_list();
    const connection = await server.nextConnection();
    await connection.request(MasterOp.PARTY_CREATE);
    await connection.request(MasterOp.PRESENCE_LIST);
    connection.socket.close(1001, "going away");
    for (const id of [first, second]) expect(await log.next({ type: gm.master_type_response, id })).toMatchObject({ status: gm.master_status_not_connected, error: "not_connected" });
    await log.next({ type: gm.network_type_down });
  });
});

describe("master client wire format", () => {
  it("sends GML options as the wire's camelCase fields, room properties and raw bodies as given", async () => {
    const { gm, server } = await connected();
    gm.master_room_create("Arena", 4, 7000, { public: 0, password: "sesame", properties: { mapName: "dunes", tier: 2 } });
    gm.master_room_list({ not_full: true, no_password: 1, name: "are", offset: 0, limit: 5, properties: { mapName: "dunes" } });
    gm.master_room_update({ max_players: 8, public: true });
    gm.master_room_join(77, "sesame");
    gm.master_chat_send(gm.master_chat_whisper, "psst", "bob");
    gm.master_chat_send(gm.master_chat_party, "all of us", "");
    gm.master_presence_list({ username: "an" });
    gm.master_presence_subscribe(1);
    gm.master_login_guest();
    gm.master_request(999, "{not json");
    gm.master_request(gm.master_op_register, { user_name: "kept", Password: 1 });
    gm.master_request(gm.master_op_logout);
    const connection = await server.nextConnection();
    const sent = [];
    for (let i = 0; i < 12; i++) {
      const call = await connection.request();
      sent.push([call.op, call.text]);
    }
    expect(sent).toEqual([
      [MasterOp.ROOM_CREATE, JSON.stringify({ name: "Arena", maxPlayers: 4, port: 7000, public: false, password: "sesame", properties: { mapName: "dunes", tier: 2 } })],
      [MasterOp.ROOM_LIST, JSON.stringify({ notFull: true, noPassword: true, name: "are", offset: 0, limit: 5, properties: { mapName: "dunes" } })],
      [MasterOp.ROOM_UPDATE, JSON.stringify({ maxPlayers: 8, public: true })],
      [MasterOp.ROOM_JOIN, JSON.stringify({ roomId: 77, password: "sesame" })],
      [MasterOp.CHAT_SEND, JSON.stringify({ channel: "whisper", text: "psst", to: "bob" })],
      [MasterOp.CHAT_SEND, JSON.stringify({ channel: "party", text: "all of us" })],
      [MasterOp.PRESENCE_LIST, JSON.stringify({ username: "an" })],
      [MasterOp.PRESENCE_SUBSCRIBE, JSON.stringify({ enabled: true })],
      [MasterOp.LOGIN_GUEST, "{}"],
      [999, "{not json"],
      [MasterOp.REGISTER, JSON.stringify({ user_name: "kept", Password: 1 })],
      [MasterOp.LOGOUT, ""],
    ]);
  });

  it("puts response bodies into async_load with snake_case keys, and failures with their error and message", async () => {
    const { gm, log, server } = await connected();
    const list = gm.master_room_list();
    const join = gm.master_room_join(9);
    const locked = gm.master_login("ann", "wrong");
    const unknown = gm.master_request(999, {});
    const connection = await server.nextConnection();
    const room = { roomId: 9, name: "Arena", host: "bob", players: 1, maxPlayers: 4, hasPassword: false, public: true, properties: { mapName: "dunes" } };
    connection.respond(await connection.request(MasterOp.ROOM_LIST), MasterStatus.SUCCESS, { total: 1, offset: 0, rooms: [room] });
    connection.respond(await connection.request(MasterOp.ROOM_JOIN), MasterStatus.SUCCESS, { ...room, players: 2, ip: "10.0.0.9", port: 7000 });
    connection.respond(await connection.request(MasterOp.LOGIN), MasterStatus.RATE_LIMITED, { error: "locked", message: "too many failures", retryAfterMs: 900_000 });
    connection.respond(await connection.request(999), MasterStatus.UNKNOWN_OPERATION, "not even JSON");

    const listed = await log.next({ type: gm.master_type_response, id: list });
    expect(listed).toMatchObject({ op: gm.master_op_room_list, status: gm.master_status_success, succeeded: true, error: "", message: "", total: 1, offset: 0 });
    expect(listed.rooms).toEqual([{ room_id: 9, name: "Arena", host: "bob", players: 1, max_players: 4, has_password: false, public: true, properties: { mapName: "dunes" } }]);
    expect(await log.next({ type: gm.master_type_response, id: join })).toMatchObject({ room_id: 9, players: 2, ip: "10.0.0.9", port: 7000 });
    expect(gm.master_get_room()).toBe(9);
    expect(await log.next({ type: gm.master_type_response, id: locked })).toMatchObject({
      status: gm.master_status_rate_limited,
      succeeded: false,
      error: "locked",
      message: "too many failures",
      retry_after_ms: 900_000,
    });
    // A failure whose body names no error still gets the code that goes with its status.
    expect(await log.next({ type: gm.master_type_response, id: unknown })).toMatchObject({ op: 999, status: gm.master_status_unknown_operation, error: "unknown_operation", message: "" });
  });

  it("delivers pushed events with id -1, snake_case keys and chat channels as master_chat_* numbers", async () => {
    const { gm, log, server } = await connected();
    gm.master_room_list(); // opens the connection
    const connection = await server.nextConnection();
    connection.event(MasterEvent.CHAT, { channel: "whisper", from: "bob", fromId: 6, text: "psst", to: "ann", roomId: 0, partyId: 0, time: 1234 });
    connection.event(999, { something: "new" }); // an event this engine does not know: ignored
    connection.event(MasterEvent.PARTY_INVITE, { partyId: 4, from: "bob" });
    connection.event(MasterEvent.CHAT, { channel: "global", from: "cid", fromId: 7, text: "hello all", to: "", roomId: 0, partyId: 0, time: 1235 });
    const whisper = await log.next({ type: gm.master_type_chat });
    expect(whisper).toEqual({ event_type: gm.ev_async_social, type: gm.master_type_chat, id: -1, channel: gm.master_chat_whisper, from: "bob", from_id: 6, text: "psst", to: "ann", room_id: 0, party_id: 0, time: 1234 });
    expect(await log.next({ type: gm.master_type_party_invite })).toMatchObject({ id: -1, party_id: 4, from: "bob" });
    expect(await log.next({ type: gm.master_type_chat })).toMatchObject({ channel: gm.master_chat_global, text: "hello all" });
    expect(log.seen.filter((event) => event.event_type === gm.ev_async_social)).toHaveLength(3);
  });
});

describe("master login and the virtual IP", () => {
  it("moves to the account's address on login, resumes with the token after a reconnect, and forgets it when the server ends the login", async () => {
    const { gm, log, server } = await connected();
    const id = gm.master_login("ann", "correct horse");
    const first = await server.nextConnection();
    expect(first.hello.token).toBe("");
    const call = await first.request(MasterOp.LOGIN);
    expect(JSON.parse(call.text)).toEqual({ username: "ann", password: "correct horse" });
    first.moveTo(ACCOUNT_IP); // the server moves the connection before it answers
    first.respond(call, MasterStatus.SUCCESS, SESSION);

    const answer = await log.next({ type: gm.master_type_response, id });
    expect(answer).toMatchObject({ succeeded: true, account_id: 5, username: "ann", guest: false, token: "token-ann", expires_in_ms: 86_400_000, ip: "10.200.0.1" });
    expect(gm.network_get_config(gm.network_config_virtual_ip)).toBe("10.200.0.1");
    const ups = log.seen.filter((event) => event.type === gm.network_type_up && event.event_type === gm.ev_async_web_networking).map((event) => event.ip);
    expect(ups).toEqual([formatIpv4(first.virtualIp), "10.200.0.1"]);
    expect([gm.master_logged_in(), gm.master_get_username(), gm.master_get_account_id(), gm.master_get_token()]).toEqual([true, "ann", 5, "token-ann"]);

    // The connection drops: the login is worth a reconnect by itself, and the HELLO carries the token.
    first.socket.close(1001, "going away");
    await log.next({ type: gm.network_type_down });
    const second = await server.nextConnection();
    expect(second.hello.token).toBe("token-ann");
    second.moveTo(ACCOUNT_IP);
    second.event(MasterEvent.SESSION, { state: "resumed", ...SESSION });
    expect(await log.next({ type: gm.master_type_session })).toMatchObject({ id: -1, state: "resumed", username: "ann", account_id: 5, token: "token-ann", ip: "10.200.0.1" });
    await log.next((event) => event.type === gm.network_type_up && event.ip === "10.200.0.1");
    expect(gm.master_logged_in()).toBe(true);

    // Another device takes the account: the login ends here and the connection moves back.
    second.event(MasterEvent.SESSION, { state: "ended", reason: "replaced" });
    second.moveTo(second.virtualIp);
    expect(await log.next({ type: gm.master_type_session, state: "ended" })).toMatchObject({ id: -1, reason: "replaced" });
    await log.next((event) => event.type === gm.network_type_up && event.ip === formatIpv4(second.virtualIp));
    expect([gm.master_logged_in(), gm.master_get_token(), gm.master_get_username(), gm.master_get_account_id()]).toEqual([false, "", "", 0]);

    // Nothing is resumed on the next connection.
    second.socket.close(1001, "going away");
    await log.next({ type: gm.network_type_down });
    gm.master_room_list();
    expect((await server.nextConnection()).hello.token).toBe("");
  });

  it("logs out at once on master_logout, whatever the server answers, and clears a rejected token", async () => {
    const { gm, log, server } = await connected();
    const login = gm.master_login("ann", "correct horse");
    const connection = await server.nextConnection();
    connection.respond(await connection.request(MasterOp.LOGIN), MasterStatus.SUCCESS, SESSION);
    await log.next({ type: gm.master_type_response, id: login });
    expect(gm.master_logged_in()).toBe(true);
    const logout = gm.master_logout();
    expect([gm.master_logged_in(), gm.master_get_token()]).toEqual([false, ""]);
    connection.respond(await connection.request(MasterOp.LOGOUT), MasterStatus.ERROR, { error: "internal", message: "storage fault" });
    expect(await log.next({ type: gm.master_type_response, id: logout })).toMatchObject({ status: gm.master_status_error, error: "internal" });
    expect(gm.master_logged_in()).toBe(false);

    const resume = gm.master_resume("token-ann");
    connection.respond(await connection.request(MasterOp.RESUME), MasterStatus.SUCCESS, SESSION);
    await log.next({ type: gm.master_type_response, id: resume });
    connection.event(MasterEvent.SESSION, { state: "rejected", reason: "token_expired" });
    expect(await log.next({ type: gm.master_type_session })).toMatchObject({ state: "rejected", reason: "token_expired" });
    expect(gm.master_logged_in()).toBe(false);
  });

  it("ends streams on the old address, keeps listening, and binds its UDP ports and host name again after a move", async () => {
    const { gm, log, server } = await connected();
    const listener = gm.network_create_server_raw(gm.network_socket_tcp, 7000, 4);
    const udp = gm.network_create_socket_ext(gm.network_socket_udp, 6000);
    const claim = gm.network_set_config(gm.network_config_hostname, "arena");
    const connection = await server.nextConnection();
    const bind = await connection.next(Channel.VSOCKET, VSocketType.UDP_BIND);
    expect(UdpBind.decode(bind.payload).port).toBe(6000);
    const claimed = HostnameClaim.decode((await connection.next(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM)).payload);
    connection.send(Channel.VSOCKET, VSocketType.HOSTNAME_RESULT, HostnameResult.encode({ reqId: claimed.reqId, ok: true }));
    expect(await log.next({ type: gm.network_type_hostname, id: claim })).toMatchObject({ succeeded: 1 });

    // A client on 10.0.0.99 connects to the raw server on port 7000.
    const peerIp = 0x0a000063;
    connection.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest.encode({ reqId: 41, peerIp, peerPort: 50000, localPort: 7000 }));
    const accepted = SocketConnectionResponse.decode((await connection.next(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_RESPONSE)).payload);
    expect(accepted).toEqual({ reqId: 41, accepted: true });
    connection.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTED, SocketConnected.encode({ reqId: 41, connId: 900, peerIp, peerPort: 50000, localPort: 7000 }));
    const joined = await log.next({ type: gm.network_type_connect, id: listener });

    connection.moveTo(ACCOUNT_IP);
    const gone = await log.next({ type: gm.network_type_disconnect, socket: joined.socket });
    expect(gone).toMatchObject({ id: listener, error: "E_NETWORK_ADDRESS_CHANGED" });
    await log.next((event) => event.type === gm.network_type_up && event.ip === "10.200.0.1");
    expect(gm.network_get_config(gm.network_config_virtual_ip)).toBe("10.200.0.1");
    // The server forgot the old address's bindings and name; the engine makes them again.
    expect(UdpBind.decode((await connection.next(Channel.VSOCKET, VSocketType.UDP_BIND)).payload).port).toBe(6000);
    expect(HostnameClaim.decode((await connection.next(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM)).payload).name).toBe("arena");

    // Data for the old stream is dropped without a word; the server socket still listens.
    connection.send(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, ArbitraryData.encode({ connId: 900, seq: 1, data: new Uint8Array([1, 2, 3]) }));
    connection.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest.encode({ reqId: 42, peerIp, peerPort: 50001, localPort: 7000 }));
    expect(SocketStatusResponse.decode((await connection.next(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE)).payload)).toEqual({ reqId: 42, listening: true });
    log.drain();
    expect(log.seen.filter((event) => event.type === gm.network_type_data)).toHaveLength(0);
    expect(connection.frames.filter((frame) => frame.channel === Channel.CONTROL && frame.type === ControlType.HELLO)).toHaveLength(0);
    expect(udp).toBeGreaterThanOrEqual(0);
  });
});
