/**
 * Which live connection is logged in as which account. Logging in moves a connection to the
 * account's permanent virtual IP; one connection per account (a second login ends the first,
 * which moves back to its own address). Services that keep per-login state (rooms, parties,
 * presence) listen here and clean up on logout, whatever ended it.
 */
import { MasterEvent } from "@gmnet/protocol";
import type { Session } from "../session/session.js";
import type { Identity } from "../storage/storage.js";
import type { Login } from "./caller.js";
import { sendEvent } from "./events.js";

/** Why a login ended: LOGOUT, another connection took the account, or the connection closed. */
export type LogoutReason = "logout" | "replaced" | "disconnected";

export interface LoginListener {
  onLogin?(session: Session, login: Login): void;
  /** Runs while the session still has the account's address (unless it is closed). */
  onLogout?(session: Session, login: Login, reason: LogoutReason): void;
}

interface AppLogins {
  /** accountId → session, in login order. */
  readonly byAccount: Map<number, Session>;
  /** lower-cased user name → session. */
  readonly byName: Map<string, Session>;
}

export class OnlineAccounts {
  private readonly bySession = new Map<Session, Login>();
  private readonly apps = new Map<string, AppLogins>();
  private readonly listeners: LoginListener[] = [];

  listen(listener: LoginListener): void {
    this.listeners.push(listener);
  }

  loginOf(session: Session): Login | undefined {
    return this.bySession.get(session);
  }

  sessionOf(appKey: string, accountId: number): Session | undefined {
    return this.apps.get(appKey)?.byAccount.get(accountId);
  }

  /** The connection logged in as `username` (case-insensitive), if any. */
  findByName(appKey: string, username: string): { session: Session; login: Login } | undefined {
    const session = this.apps.get(appKey)?.byName.get(username.toLowerCase());
    const login = session === undefined ? undefined : this.bySession.get(session);
    return session === undefined || login === undefined ? undefined : { session, login };
  }

  /** Every logged-in connection of the app key, in login order. */
  *logins(appKey: string): Iterable<{ session: Session; login: Login }> {
    for (const session of this.apps.get(appKey)?.byAccount.values() ?? []) {
      const login = this.bySession.get(session);
      if (login !== undefined) yield { session, login };
    }
  }

  /** The connection the account is logged in on, if it holds this very token (an HTTP caller's live session). */
  sessionHolding(appKey: string, login: Login): Session | undefined {
    const session = this.sessionOf(appKey, login.accountId);
    return session !== undefined && this.loginOf(session)?.tokenHash === login.tokenHash ? session : undefined;
  }

  /** Every logged-in connection of every app key. */
  sessions(): Session[] {
    return [...this.bySession.keys()];
  }

  count(appKey: string): number {
    return this.apps.get(appKey)?.byAccount.size ?? 0;
  }

  /**
   * Logs `session` in as `login` and moves it to the account's identity (its virtual IP, which the
   * caller looked up in the storage first). The same account again (a refresh) only swaps the
   * token; another account logs the old one out first; the account's login on another connection
   * ends (EVENT SESSION ended/replaced).
   */
  login(session: Session, login: Login, accountIdentity: Identity): void {
    if (session.closed) return;
    const current = this.bySession.get(session);
    if (current !== undefined && current.accountId === login.accountId) {
      this.bySession.set(session, login);
      return;
    }
    if (current !== undefined) this.end(session, "logout", false);
    const elsewhere = this.sessionOf(session.appKey, login.accountId);
    if (elsewhere !== undefined && elsewhere !== session) {
      this.end(elsewhere, "replaced", true);
      sendEvent(elsewhere, MasterEvent.SESSION, { state: "ended", reason: "replaced" });
    }
    session.moveTo(accountIdentity);
    this.bySession.set(session, login);
    const app = this.app(session.appKey);
    app.byAccount.set(login.accountId, session);
    app.byName.set(login.username.toLowerCase(), session);
    for (const listener of this.listeners) listener.onLogin?.(session, login);
  }

  /** Ends the session's login (LOGOUT, a revoked token) and moves it back to its own address. */
  logout(session: Session, reason: Exclude<LogoutReason, "disconnected"> = "logout"): Login | undefined {
    return this.end(session, reason, true);
  }

  /** The connection closed: its login ends where it is. */
  disconnected(session: Session): void {
    this.end(session, "disconnected", false);
  }

  private end(session: Session, reason: LogoutReason, moveBack: boolean): Login | undefined {
    const login = this.bySession.get(session);
    if (login === undefined) return undefined;
    for (const listener of this.listeners) listener.onLogout?.(session, login, reason);
    this.bySession.delete(session);
    const app = this.apps.get(session.appKey);
    if (app !== undefined) {
      if (app.byAccount.get(login.accountId) === session) app.byAccount.delete(login.accountId);
      if (app.byName.get(login.username.toLowerCase()) === session) app.byName.delete(login.username.toLowerCase());
      if (app.byAccount.size === 0) this.apps.delete(session.appKey);
    }
    if (moveBack && !session.closed) session.moveTo(session.deviceIdentity);
    return login;
  }

  private app(appKey: string): AppLogins {
    let app = this.apps.get(appKey);
    if (app === undefined) this.apps.set(appKey, (app = { byAccount: new Map(), byName: new Map() }));
    return app;
  }
}
