/**
 * Accounts and sessions through the engine's master_* functions against the real server:
 * the whole lifecycle, wrong passwords, lockout, token expiry and forgery, resume, and the rule
 * that a login moves the tab to the account's own virtual IP.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createServer } from "@gmnet/signaling-server";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { EventLog, type TestNetwork, startNetwork } from "../network/support.js";
import { FAST_HASHES, loggedIn, player, uniqueName } from "./support.js";

let network: TestNetwork | undefined;
afterEach(async () => {
  await network?.close();
  network = undefined;
});

/** A server clock whose Unix time can be moved forward, for token expiry without waiting. */
function shiftableClock() {
  let offset = 0;
  return {
    clock: {
      now: () => performance.now(),
      wallNow: () => Date.now() + offset,
      setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

const answer = (p: { gm: Engine; log: EventLog }, id: number) => p.log.next({ type: p.gm.master_type_response, id });

describe("master accounts", () => {
  it("registers, logs in, refreshes, logs out and logs in again", async () => {
    network = await startNetwork(FAST_HASHES);
    const p = player(network);
    const name = uniqueName("life");
    const registered = await p.must((gm) => gm.master_register(name, "correct horse"));
    expect(registered).toMatchObject({ op: p.gm.master_op_register, succeeded: true, error: "", username: name });
    expect(registered.account_id).toBeGreaterThan(0);
    expect(p.gm.master_logged_in()).toBe(false);

    const login = await p.must((gm) => gm.master_login(name, "correct horse"));
    expect(login).toMatchObject({ username: name, account_id: registered.account_id, guest: false });
    expect(login.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.expires_in_ms).toBeGreaterThan(0);
    expect(p.gm.master_logged_in()).toBe(true);
    expect(p.gm.master_get_username()).toBe(name);
    expect(p.gm.master_get_token()).toBe(login.token);

    const refreshed = await p.must((gm) => gm.master_refresh());
    expect(refreshed.token).not.toBe(login.token);
    expect(p.gm.master_get_token()).toBe(refreshed.token);
    // The refreshed-away token is revoked: resuming with it fails.
    const stale = await p.ask((gm) => gm.master_resume(login.token as string));
    expect(stale).toMatchObject({ status: p.gm.master_status_unauthorized, error: "token_invalid" });

    await p.must((gm) => gm.master_logout());
    expect(p.gm.master_logged_in()).toBe(false);
    const afterLogout = await p.ask((gm) => gm.master_resume(refreshed.token as string));
    expect(afterLogout.error).toBe("token_invalid");
    await p.must((gm) => gm.master_login(name.toUpperCase(), "correct horse")); // names are case-insensitive
    expect(p.gm.master_get_username()).toBe(name);
  });

  it("answers a wrong password and an unknown user alike, and a taken name with username_taken", async () => {
    network = await startNetwork(FAST_HASHES);
    const p = player(network);
    const name = uniqueName("pw");
    await p.must((gm) => gm.master_register(name, "correct horse"));
    const wrong = await p.ask((gm) => gm.master_login(name, "wrong horse!"));
    const unknown = await p.ask((gm) => gm.master_login(uniqueName("nobody"), "correct horse"));
    expect(wrong).toMatchObject({ succeeded: false, status: p.gm.master_status_unauthorized, error: "wrong_credentials" });
    expect(unknown).toMatchObject({ status: wrong.status, error: wrong.error, message: wrong.message });
    const taken = await p.ask((gm) => gm.master_register(name.toUpperCase(), "another pass"));
    expect(taken).toMatchObject({ status: p.gm.master_status_failed, error: "username_taken" });
    expect(p.gm.master_logged_in()).toBe(false);
  });

  it("locks an account after repeated failures, even for the right password", async () => {
    network = await startNetwork({ ...FAST_HASHES, loginMaxFailures: 3 });
    const p = player(network);
    const name = uniqueName("lock");
    await p.must((gm) => gm.master_register(name, "correct horse"));
    for (let i = 0; i < 3; i++) expect((await p.ask((gm) => gm.master_login(name, "wrong horse!"))).error).toBe("wrong_credentials");
    const locked = await p.ask((gm) => gm.master_login(name, "correct horse"));
    expect(locked).toMatchObject({ status: p.gm.master_status_rate_limited, error: "locked" });
    expect(locked.retry_after_ms).toBeGreaterThan(0);
    // Another account from the same address is not locked by this one's failures.
    const other = uniqueName("free");
    await p.must((gm) => gm.master_register(other, "correct horse"));
    await p.must((gm) => gm.master_login(other, "correct horse"));
  });

  it("rejects expired and forged tokens, in master_resume and on reconnect", async () => {
    const time = shiftableClock();
    network = await startNetwork({ ...FAST_HASHES, clock: time.clock, sessionTtlMs: 60_000 });
    const owner = await loggedIn(network, "exp");
    const token = owner.gm.master_get_token();

    const other = player(network);
    const forged = await other.ask((gm) => gm.master_resume("A".repeat(43)));
    expect(forged).toMatchObject({ status: other.gm.master_status_unauthorized, error: "token_invalid" });
    const garbage = await other.ask((gm) => gm.master_resume("not a token"));
    expect(garbage.error).toBe("token_invalid");
    const valid = await other.must((gm) => gm.master_resume(token));
    expect(valid.username).toBe(owner.name);

    time.advance(60_001);
    const expired = await owner.ask((gm) => gm.master_resume(token));
    expect(expired).toMatchObject({ status: owner.gm.master_status_unauthorized, error: "token_expired" });
  });

  it("resumes the login with its token after the server restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gmnet-master-"));
    const db = join(dir, "gmnet.sqlite");
    const first = createServer({ port: 0, host: "127.0.0.1", db, logLevel: "silent", drainRetryAfterMs: 0, ...FAST_HASHES });
    await first.ready;
    const port = first.address().port;
    const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, signalingUrl: first.address().wsUrl, appKey: "restart" } });
    const p = { gm, log: new EventLog(gm) };
    const name = uniqueName("restart");
    try {
      expect((await answer(p, gm.master_register(name, "correct horse"))).succeeded).toBe(true);
      const login = await answer(p, gm.master_login(name, "correct horse"));
      expect(login.succeeded).toBe(true);
      await first.close();
      await p.log.next({ type: gm.network_type_down });
      // The same address and database: the token is still valid, and the engine sends it in its Hello.
      const second = createServer({ port, host: "127.0.0.1", db, logLevel: "silent", ...FAST_HASHES });
      await second.ready;
      try {
        const resumed = await p.log.next({ type: gm.master_type_session, state: "resumed" }, 15_000);
        expect(resumed).toMatchObject({ username: name, token: login.token, ip: login.ip });
        expect(gm.master_logged_in()).toBe(true);
        await p.log.next((event) => event.type === gm.network_type_up && event.ip === login.ip);
      } finally {
        gm.network_shutdown();
        await second.close();
      }
    } finally {
      gm.network_shutdown();
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("moves the tab to the account's virtual IP, the same from any device, and back on logout", async () => {
    network = await startNetwork(FAST_HASHES);
    const first = player(network);
    const second = player(network);
    const name = uniqueName("ip");
    await first.must((gm) => gm.master_register(name, "correct horse"));
    // Both tabs come online on their own identities' addresses.
    await first.must((gm) => gm.master_room_list());
    await second.must((gm) => gm.master_room_list());
    const firstOwn = first.gm.network_get_config(first.gm.network_config_virtual_ip);
    const secondOwn = second.gm.network_get_config(second.gm.network_config_virtual_ip);
    expect(firstOwn).not.toBe(secondOwn);

    const login = await first.must((gm) => gm.master_login(name, "correct horse"));
    expect(login.ip).not.toBe(firstOwn);
    expect(first.gm.network_get_config(first.gm.network_config_virtual_ip)).toBe(login.ip);

    // The same account on the second device: it gets the same address, the first tab's login ends.
    const again = await second.must((gm) => gm.master_login(name, "correct horse"));
    expect(again.ip).toBe(login.ip);
    expect(second.gm.network_get_config(second.gm.network_config_virtual_ip)).toBe(login.ip);
    const ended = await first.event(first.gm.master_type_session, { state: "ended" });
    expect(ended.reason).toBe("replaced");
    expect(first.gm.master_logged_in()).toBe(false);
    await first.log.next((event) => event.type === first.gm.network_type_up && event.ip === firstOwn);
    expect(first.gm.network_get_config(first.gm.network_config_virtual_ip)).toBe(firstOwn);

    await second.must((gm) => gm.master_logout());
    await second.log.next((event) => event.type === second.gm.network_type_up && event.ip === secondOwn);
  });
});
