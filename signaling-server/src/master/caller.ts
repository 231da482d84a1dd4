/**
 * Who is asking, as every operation sees it, whichever transport carried the request. The
 * server fills it from what it knows (the connection, the verified token), never from the body.
 */
import type { Session } from "../session/session.js";

/** A logged-in account as the master services know it. */
export interface Login {
  readonly accountId: number;
  readonly username: string;
  readonly guest: boolean;
  /** SHA-256 (hex) of the session token this login holds; LOGOUT and REFRESH revoke it. */
  readonly tokenHash: string;
}

export interface Caller {
  readonly via: "ws" | "http";
  readonly appKey: string;
  /** The client's network address, for login rate limits. */
  readonly address: string;
  /**
   * The live WebSocket session the operation acts for: the requesting connection over the
   * WebSocket; over HTTP the connection the token's account is logged in on, if any.
   */
  readonly session: Session | undefined;
  /** The caller's login, if any (over HTTP: from a valid bearer token). */
  readonly login: Login | undefined;
  /** Over HTTP: why the bearer token was refused, if one was given and refused. */
  readonly tokenProblem?: "token_invalid" | "token_expired";
  /** Over HTTP: the bearer token as given (RESUME over HTTP checks it). */
  readonly bearerToken?: string;
}
