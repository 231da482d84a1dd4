/**
 * Accounts and sessions (PROTOCOL.md §16.3): REGISTER, LOGIN, LOGIN_GUEST, LOGOUT, RESUME and
 * REFRESH, plus the two ways a token arrives outside a request body — HTTP's bearer header
 * (verifyToken) and HELLO's token field (resumeFromHello).
 *
 * Over the WebSocket a successful LOGIN, LOGIN_GUEST or RESUME logs the connection in
 * (OnlineAccounts moves it to the account's virtual IP, VIRTUAL_IP going out before the
 * RESPONSE); over HTTP they only issue or check a token.
 */
import { randomInt } from "node:crypto";
import { MasterEvent, MasterOp, formatIpv4 } from "@gmnet/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import type { Account, Identity, SelectedCharacter } from "../../storage/storage.js";
import type { Caller, Login } from "../caller.js";
import type { CharacterService } from "../characters/character-service.js";
import type { MasterDeps } from "../deps.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { type Body, type Outcome, fail, ok } from "../outcome.js";
import { LoginLimiter, WindowCounter } from "./login-limiter.js";
import { PasswordHasher } from "./passwords.js";
import { type TokenProblem, TokenStore } from "./token-store.js";

export interface AuthService {
  /** REGISTER, LOGIN, LOGIN_GUEST, LOGOUT, RESUME, REFRESH. */
  readonly operations: AnyOperation[];
  /** Checks a bearer token (HTTP): the login it stands for, or why not. */
  verifyToken(appKey: string, token: string): Promise<{ login: Login } | { problem: TokenProblem }>;
  /**
   * Called when a session opens with a non-empty Hello token: logs it in (online.login) and sends
   * EVENT SESSION {state:"resumed", ...Session}, or EVENT SESSION {state:"rejected", reason}.
   * Never closes the connection, never rejects (a storage failure is logged and counted; the
   * connection stays on its own address).
   */
  resumeFromHello(session: Session): Promise<void>;
  close(): void;
}

export const GUEST_PREFIX = "guest-";
const GUEST_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const GUEST_SUFFIX_LENGTH = 8;
/** Tries at a free guest name (36⁸ names: a clash is already rare). */
const GUEST_NAME_TRIES = 8;

const username = z
  .string()
  .min(3)
  .max(24)
  .regex(/^[A-Za-z0-9_.-]*$/, "only letters A–Z a–z, digits and _ . - are allowed");
const password = z.string().min(8).max(128);
const credentials = z.strictObject({ username, password });
const empty = z.strictObject({});
/** Over HTTP the token comes in the Authorization header instead (GET /api/auth/session). */
const resumeBody = z.strictObject({ token: z.string().max(256).optional() });

/** What a login and its Session body need from the storage besides the token: the account's identity and selected character. */
interface LoginDetails {
  readonly identity: Identity;
  readonly selected: SelectedCharacter | undefined;
}

export function createAuthService(deps: MasterDeps, characters: Pick<CharacterService, "selected" | "remember">): AuthService {
  const { config, storage, clock, logger, metrics } = deps.server;
  const accounts = storage.accounts;
  const tokens = new TokenStore({
    tokens: storage.tokens,
    clock,
    wallNow: deps.wallNow,
    ttlMs: config.sessionTtlMs,
    sweepIntervalMs: config.sessionSweepIntervalMs,
    onSweepError: (error) => {
      metrics.storageFailures.inc({ op: "token-sweep" });
      logger.error({ err: error }, "session token sweep failed");
    },
  });
  const passwords = new PasswordHasher({
    cost: config.scryptCost,
    parallelism: config.scryptParallelism,
    maxConcurrent: config.maxConcurrentHashes,
    maxQueued: config.maxQueuedHashes,
  });
  // Every account is a row in the database: without a cap per address, a script could fill it.
  const creations = new WindowCounter(config.accountCreationsPerAddress, config.accountCreationWindowMs, 100_000);
  /** Counts an account creation for the caller's address, or the rate_limited outcome when its quota is spent. */
  const admitCreation = (caller: Caller): { undo: () => void } | Outcome => {
    const now = clock.now();
    const retryAfterMs = creations.lockedFor(caller.address, now);
    if (retryAfterMs > 0) {
      return fail("rate_limited", `too many new accounts from this address; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
    const window = creations.count(caller.address, now);
    return { undo: () => creations.uncount(caller.address, window) };
  };

  const limiter = new LoginLimiter({
    maxFailures: config.loginMaxFailures,
    maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
    windowMs: config.loginWindowMs,
    now: () => clock.now(),
  });

  const detailsOf = async (appKey: string, accountId: number): Promise<LoginDetails> => {
    const [identity, selected] = await Promise.all([storage.identities.accountIdentity(appKey, accountId), characters.selected(accountId)]);
    return { identity, selected };
  };

  /** The Session body of §16.3. */
  const sessionBody = (login: Login, token: string, expiresAt: number, details: LoginDetails): Body => ({
    accountId: login.accountId,
    username: login.username,
    guest: login.guest,
    token,
    expiresInMs: Math.max(0, expiresAt - deps.wallNow()),
    ip: formatIpv4(details.identity.virtualIp),
    characterId: details.selected?.id ?? 0,
    character: details.selected?.name ?? "",
  });

  /** Logs a live connection in, synchronously once the details are known (the characters service remembers the selection first). */
  const logIn = (session: Session, login: Login, details: LoginDetails): void => {
    if (session.closed) return;
    characters.remember(login.accountId, details.selected);
    deps.online.login(session, login, details.identity);
  };

  /** Over the WebSocket: logs the requesting connection in (VIRTUAL_IP goes out before the RESPONSE). */
  const loginConnection = (caller: Caller, login: Login, details: LoginDetails): void => {
    if (caller.via === "ws" && caller.session !== undefined) logIn(caller.session, login, details);
  };

  /** Issues a token for `account` and answers with the Session. */
  const startSession = async (caller: Caller, account: Account): Promise<Outcome> => {
    const issued = await tokens.issue(caller.appKey, account.id);
    const login: Login = { accountId: account.id, username: account.username, guest: account.guest, tokenHash: issued.tokenHash };
    const details = await detailsOf(caller.appKey, account.id);
    loginConnection(caller, login, details);
    return ok(sessionBody(login, issued.token, issued.expiresAt, details));
  };

  /** The login a token stands for, with its expiry. */
  const checkToken = async (appKey: string, token: string): Promise<{ login: Login; expiresAt: number } | { problem: TokenProblem }> => {
    const checked = await tokens.check(appKey, token);
    if ("problem" in checked) return checked;
    const account = await accounts.findById(checked.accountId);
    if (account === undefined || account.appKey !== appKey) return { problem: "token_invalid" };
    return { login: { accountId: account.id, username: account.username, guest: account.guest, tokenHash: checked.tokenHash }, expiresAt: checked.expiresAt };
  };

  const tokenFailure = (problem: TokenProblem): Outcome =>
    fail(problem, problem === "token_expired" ? "the session token has expired; log in again" : "the session token is not valid");

  const register = defineOperation({
    op: MasterOp.REGISTER,
    needs: "nothing",
    body: credentials,
    async run({ caller, body }) {
      const taken = (): Outcome => fail("username_taken", `the user name ${JSON.stringify(body.username)} is taken`);
      // Checked first so a taken name costs no hash; the insert checks again (a race with another REGISTER).
      if ((await accounts.findByName(caller.appKey, body.username)) !== undefined) return taken();
      const admission = admitCreation(caller);
      if (!("undo" in admission)) return admission;
      let account: Account | undefined;
      try {
        account = await accounts.create(caller.appKey, body.username, await passwords.hash(body.password), deps.wallNow());
      } catch (error) {
        admission.undo();
        throw error;
      }
      if (account === undefined) {
        admission.undo();
        return taken();
      }
      return ok({ accountId: account.id, username: account.username });
    },
  });

  const login = defineOperation({
    op: MasterOp.LOGIN,
    needs: "nothing",
    body: credentials,
    async run({ caller, body }) {
      const admission = limiter.begin(`${caller.appKey}\n${body.username.toLowerCase()}`, caller.address);
      if (admission.locked) {
        return fail("locked", `too many failed logins; try again in ${Math.ceil(admission.retryAfterMs / 1000)} s`, { retryAfterMs: admission.retryAfterMs });
      }
      const { attempt } = admission;
      let account: Account | undefined;
      let valid: boolean;
      try {
        account = await accounts.findByName(caller.appKey, body.username);
        // An unknown name, or a guest (no password), costs the same hash as a wrong password.
        valid = account?.passwordHash != null ? await passwords.verify(body.password, account.passwordHash) : await passwords.verifyDummy(body.password);
      } catch (error) {
        attempt.cancelled();
        throw error;
      }
      if (!valid || account === undefined) {
        attempt.failed();
        return fail("wrong_credentials", "wrong user name or password");
      }
      attempt.succeeded();
      await accounts.recordLogin(account.id, deps.wallNow());
      return startSession(caller, account);
    },
  });

  const loginGuest = defineOperation({
    op: MasterOp.LOGIN_GUEST,
    needs: "nothing",
    body: empty,
    async run({ caller }) {
      const admission = admitCreation(caller);
      if (!("undo" in admission)) return admission;
      for (let i = 0; i < GUEST_NAME_TRIES; i++) {
        let account: Account | undefined;
        try {
          account = await accounts.create(caller.appKey, guestName(), null, deps.wallNow());
        } catch (error) {
          admission.undo();
          throw error;
        }
        if (account === undefined) continue;
        await accounts.recordLogin(account.id, deps.wallNow());
        return startSession(caller, account);
      }
      throw new Error(`no free guest name after ${GUEST_NAME_TRIES} tries`);
    },
  });

  /**
   * The caller's connection if it holds the very token of the request: LOGOUT and REFRESH change
   * that connection's login. Over HTTP the transport names a session only if it does; check anyway.
   */
  const connectionHolding = (caller: Caller & { readonly login: Login }): Session | undefined => {
    const session = caller.session;
    return session !== undefined && deps.online.loginOf(session)?.tokenHash === caller.login.tokenHash ? session : undefined;
  };

  const logout = defineOperation({
    op: MasterOp.LOGOUT,
    needs: "login",
    body: empty,
    async run({ caller }) {
      await tokens.revoke(caller.login.tokenHash);
      const session = connectionHolding(caller);
      if (session !== undefined) {
        deps.online.logout(session, "logout");
        // Over the WebSocket the RESPONSE says it; over HTTP the connection hears it here.
        if (caller.via === "http") deps.sendEvent(session, MasterEvent.SESSION, { state: "ended", reason: "logout" });
      }
      return ok({});
    },
  });

  const resume = defineOperation({
    op: MasterOp.RESUME,
    needs: "nothing",
    body: resumeBody,
    async run({ caller, body }) {
      // Over HTTP only the Authorization header carries it: a token in a URL ends up in logs.
      if (caller.via === "http" && body.token !== undefined) return fail("invalid_body", "token: send it as Authorization: Bearer <token>, not in the URL");
      const token = caller.via === "http" ? caller.bearerToken : body.token;
      if (token === undefined) {
        if (caller.via === "ws") return fail("invalid_body", "token: required");
        return caller.tokenProblem !== undefined ? tokenFailure(caller.tokenProblem) : fail("not_logged_in", "send the session token as Authorization: Bearer <token>");
      }
      const checked = await checkToken(caller.appKey, token);
      if ("problem" in checked) return tokenFailure(checked.problem);
      const details = await detailsOf(caller.appKey, checked.login.accountId);
      loginConnection(caller, checked.login, details);
      return ok(sessionBody(checked.login, token, checked.expiresAt, details));
    },
  });

  const refresh = defineOperation({
    op: MasterOp.REFRESH,
    needs: "login",
    body: empty,
    async run({ caller }) {
      await tokens.revoke(caller.login.tokenHash);
      const issued = await tokens.issue(caller.appKey, caller.login.accountId);
      const renewed: Login = { ...caller.login, tokenHash: issued.tokenHash };
      const details = await detailsOf(caller.appKey, caller.login.accountId);
      // The connection holding the old token now holds the new one (same account: no move).
      const session = connectionHolding(caller);
      if (session !== undefined) logIn(session, renewed, details);
      return ok(sessionBody(renewed, issued.token, issued.expiresAt, details));
    },
  });

  return {
    operations: [register, login, loginGuest, logout, resume, refresh],
    async verifyToken(appKey, token) {
      const checked = await checkToken(appKey, token);
      return "problem" in checked ? checked : { login: checked.login };
    },
    async resumeFromHello(session) {
      try {
        const checked = await checkToken(session.appKey, session.helloToken);
        if ("problem" in checked) {
          deps.sendEvent(session, MasterEvent.SESSION, { state: "rejected", reason: checked.problem });
          return;
        }
        const details = await detailsOf(session.appKey, checked.login.accountId);
        logIn(session, checked.login, details);
        deps.sendEvent(session, MasterEvent.SESSION, { state: "resumed", ...sessionBody(checked.login, session.helloToken, checked.expiresAt, details) });
      } catch (error) {
        // A storage fault must not take the connection down; the client stays on its own address.
        metrics.storageFailures.inc({ op: "hello-token" });
        logger.error({ err: error, session: session.id }, "resuming a session from HELLO failed");
      }
    },
    close() {
      tokens.close();
    },
  };
}

/** `guest-` + 8 random lowercase letters and digits. */
function guestName(): string {
  let suffix = "";
  for (let i = 0; i < GUEST_SUFFIX_LENGTH; i++) suffix += GUEST_ALPHABET[randomInt(GUEST_ALPHABET.length)];
  return GUEST_PREFIX + suffix;
}
