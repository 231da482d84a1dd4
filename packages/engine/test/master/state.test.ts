/** How the engine's view of its login, room and party follows responses and events (PROTOCOL.md §16). */
import { describe, expect, it } from "vitest";
import { MasterState } from "../../src/master/state.js";
import { MasterEvent, MasterOp, MasterStatus } from "@gmnet/protocol";

const session = (accountId: number, username: string, token: string) => ({ accountId, username, guest: false, token, expiresInMs: 60_000, ip: "10.200.0.1" });

function tracked() {
  const tokens: string[] = [];
  const state = new MasterState((token) => tokens.push(token));
  return { state, tokens };
}

describe("master state", () => {
  it("logs in from LOGIN, LOGIN_GUEST, RESUME and REFRESH successes, and hands each token on for the next HELLO", () => {
    const { state, tokens } = tracked();
    state.response(MasterOp.LOGIN, MasterStatus.UNAUTHORIZED, { error: "wrong_credentials", message: "no" });
    expect(state.login).toBeUndefined();
    state.response(MasterOp.LOGIN, MasterStatus.SUCCESS, session(5, "ann", "t1"));
    expect(state.login).toEqual({ accountId: 5, username: "ann", guest: false, token: "t1", ip: "10.200.0.1" });
    state.response(MasterOp.REFRESH, MasterStatus.SUCCESS, session(5, "ann", "t2"));
    state.response(MasterOp.LOGIN_GUEST, MasterStatus.SUCCESS, { ...session(9, "guest-abcdefgh", "t3"), guest: true });
    expect(state.login?.guest).toBe(true);
    state.response(MasterOp.RESUME, MasterStatus.SUCCESS, session(5, "ann", "t2"));
    expect(tokens).toEqual(["t1", "t2", "t3", "t2"]);
    // A REGISTER success is no login; a body without a token is not a Session.
    state.response(MasterOp.REGISTER, MasterStatus.SUCCESS, { accountId: 11, username: "bob" });
    state.response(MasterOp.LOGIN, MasterStatus.SUCCESS, { accountId: 12, username: "cid" });
    expect(state.login?.username).toBe("ann");
  });

  it("follows rooms and parties from responses and events", () => {
    const { state } = tracked();
    state.response(MasterOp.LOGIN, MasterStatus.SUCCESS, session(5, "Ann", "t1"));
    state.response(MasterOp.ROOM_CREATE, MasterStatus.SUCCESS, { roomId: 77, name: "r" });
    expect(state.room).toBe(77);
    state.event(MasterEvent.ROOM_CLOSED, { roomId: 78, reason: "host_left" });
    expect(state.room).toBe(77);
    state.event(MasterEvent.ROOM_CLOSED, { roomId: 77, reason: "host_left" });
    expect(state.room).toBe(0);
    state.response(MasterOp.ROOM_JOIN, MasterStatus.SUCCESS, { roomId: 80 });
    state.event(MasterEvent.ROOM_UPDATE, { roomId: 80, reason: "left", username: "someone" });
    expect(state.room).toBe(80);
    state.response(MasterOp.ROOM_LEAVE, MasterStatus.SUCCESS, {});
    expect(state.room).toBe(0);
    state.response(MasterOp.ROOM_JOIN, MasterStatus.SUCCESS, { roomId: 81 });
    state.response(MasterOp.ROOM_LEAVE, MasterStatus.FAILED, { error: "not_in_room" });
    expect(state.room).toBe(0);

    state.response(MasterOp.PARTY_ACCEPT, MasterStatus.SUCCESS, { partyId: 3, leader: "bob", members: ["bob", "Ann"] });
    expect(state.party).toBe(3);
    state.event(MasterEvent.PARTY_UPDATE, { partyId: 3, leader: "bob", members: ["bob"], reason: "left", username: "cid" });
    expect(state.party).toBe(0); // the member list no longer has us (names compare case-insensitively)
    state.event(MasterEvent.PARTY_UPDATE, { partyId: 4, leader: "bob", members: ["bob", "ann"], reason: "joined", username: "ann" });
    expect(state.party).toBe(4);
    state.response(MasterOp.PARTY_LEAVE, MasterStatus.SUCCESS, {});
    expect(state.party).toBe(0);
  });

  it("ends the login on logout, SESSION rejected and ended; resumes it on SESSION resumed; keeps it when the connection drops", () => {
    const { state, tokens } = tracked();
    state.event(MasterEvent.SESSION, { state: "resumed", ...session(5, "ann", "t1") });
    state.response(MasterOp.ROOM_CREATE, MasterStatus.SUCCESS, { roomId: 7 });
    state.response(MasterOp.PARTY_CREATE, MasterStatus.SUCCESS, { partyId: 8, members: ["ann"] });
    state.connectionLost();
    expect([state.login?.token, state.room, state.party]).toEqual(["t1", 0, 0]);
    state.event(MasterEvent.SESSION, { state: "ended", reason: "replaced" });
    expect(state.login).toBeUndefined();
    state.event(MasterEvent.SESSION, { state: "resumed", ...session(5, "ann", "t1") });
    state.event(MasterEvent.SESSION, { state: "rejected", reason: "token_expired" });
    expect(state.login).toBeUndefined();
    state.response(MasterOp.LOGIN, MasterStatus.SUCCESS, session(5, "ann", "t4"));
    state.loggedOut();
    expect(state.login).toBeUndefined();
    expect(tokens).toEqual(["t1", "", "t1", "", "t4", ""]);
  });

  it("drops the room and party of the old account when another one logs in", () => {
    const { state } = tracked();
    state.response(MasterOp.LOGIN, MasterStatus.SUCCESS, session(5, "ann", "t1"));
    state.response(MasterOp.ROOM_CREATE, MasterStatus.SUCCESS, { roomId: 7 });
    state.response(MasterOp.REFRESH, MasterStatus.SUCCESS, session(5, "ann", "t2"));
    expect(state.room).toBe(7);
    state.response(MasterOp.LOGIN, MasterStatus.SUCCESS, session(6, "bob", "t3"));
    expect(state.room).toBe(0);
  });
});
