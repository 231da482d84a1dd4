/**
 * The master services over HTTP (PROTOCOL.md §16.8): `/api/…` routes name the operation, path
 * parameters and query strings (GET) or a JSON body (POST) make its body, `X-Gmnet-App-Key` picks
 * the app key and `Authorization: Bearer <token>` the login. The answer is the operation's body
 * as JSON, with the HTTP status its response status maps to. CORS follows `corsOrigins`.
 *
 * Every request under /api/ gets exactly one answer, whatever arrives: an unknown route, a body
 * too large or not JSON, a client that disappears halfway.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { APP_KEY_RULE, MasterOp, MasterStatus, isValidAppKey } from "@gmnet/protocol";
import { clientAddress } from "../session/client-address.js";
import type { AuthService } from "./accounts/auth-service.js";
import type { Caller } from "./caller.js";
import type { MasterDeps } from "./deps.js";
import type { Dispatch } from "./dispatcher.js";
import { type Body, type Outcome, fail } from "./outcome.js";
import { SHARD_PREFIX } from "./world/world-service.js";

type Method = "GET" | "POST";

interface Route {
  readonly method: Method;
  /** Path segments; `{name}` is a parameter. */
  readonly segments: readonly string[];
  readonly op: MasterOp;
  readonly parameters: number;
  /** Body fields the route itself sets (over the query's and the body's). */
  readonly fixed: Body;
}

/** §16.8's route table. */
const ROUTES: readonly Route[] = (
  [
    ["POST", "/api/auth/register", MasterOp.REGISTER],
    ["POST", "/api/auth/login", MasterOp.LOGIN],
    ["POST", "/api/auth/guest", MasterOp.LOGIN_GUEST],
    ["POST", "/api/auth/logout", MasterOp.LOGOUT],
    ["GET", "/api/auth/session", MasterOp.RESUME],
    ["POST", "/api/auth/refresh", MasterOp.REFRESH],
    ["GET", "/api/rooms", MasterOp.ROOM_LIST],
    ["GET", "/api/rooms/{roomId}", MasterOp.ROOM_GET],
    ["POST", "/api/rooms", MasterOp.ROOM_CREATE],
    ["POST", "/api/rooms/{roomId}/join", MasterOp.ROOM_JOIN],
    ["POST", "/api/rooms/leave", MasterOp.ROOM_LEAVE],
    ["POST", "/api/chat", MasterOp.CHAT_SEND],
    ["GET", "/api/presence", MasterOp.PRESENCE_LIST],
    ["GET", "/api/presence/nearby", MasterOp.PRESENCE_NEARBY],
    ["POST", "/api/presence/location", MasterOp.PRESENCE_SET_LOCATION],
    ["GET", "/api/characters", MasterOp.CHARACTER_LIST],
    ["POST", "/api/characters", MasterOp.CHARACTER_CREATE],
    ["POST", "/api/characters/select", MasterOp.CHARACTER_SELECT],
    ["POST", "/api/characters/{characterId}/delete", MasterOp.CHARACTER_DELETE],
    ["GET", "/api/world/state", MasterOp.WORLD_LIST],
    ["GET", "/api/world/state/{name}", MasterOp.WORLD_GET],
    ["POST", "/api/world/state", MasterOp.WORLD_SET],
    ["GET", "/api/world/shards", MasterOp.WORLD_LIST, { prefix: SHARD_PREFIX }],
  ] as ReadonlyArray<readonly [Method, string, MasterOp, Body?]>
).map(([method, path, op, fixed]) => {
  const segments = path.split("/").slice(1);
  return { method, segments, op, parameters: segments.filter(isParameter).length, fixed: fixed ?? {} };
});

/** Query and path values that are numbers or booleans in the body; everything else stays a string. */
const NUMBER_FIELDS = new Set(["roomId", "characterId", "expectedVersion", "x", "y", "z", "radius", "offset", "limit"]);
const BOOLEAN_FIELDS = new Set(["notFull", "noPassword"]);

const HTTP_STATUS: Record<MasterStatus, number> = {
  [MasterStatus.SUCCESS]: 200,
  [MasterStatus.TIMEOUT]: 504,
  [MasterStatus.ERROR]: 500,
  [MasterStatus.UNAUTHORIZED]: 401,
  [MasterStatus.INVALID]: 400,
  [MasterStatus.FAILED]: 409,
  [MasterStatus.NOT_CONNECTED]: 503,
  [MasterStatus.NOT_FOUND]: 404,
  [MasterStatus.UNKNOWN_OPERATION]: 404,
  [MasterStatus.RATE_LIMITED]: 429,
};

const DEFAULT_APP_KEY = "gmnet";
const ALLOWED_HEADERS = "authorization, content-type, x-gmnet-app-key";
const PREFLIGHT_MAX_AGE_SECONDS = 600;
/** After a 413, this much more of the body is read and dropped (so the client sees the answer); beyond it the socket is cut. */
const DISCARD_LIMIT_BYTES = 256 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

type BodyRead = { readonly bytes: Buffer } | { readonly problem: "too_large" | "aborted" | "timeout" };

export type HttpApi = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createHttpApi(deps: MasterDeps & { dispatch: Dispatch; auth: AuthService }): HttpApi {
  const { config, clock, logger } = deps.server;

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> => {
    const cors = corsHeaders(req.headers.origin, config.corsOrigins);
    const answer = (outcome: Outcome, headers: Record<string, string> = {}): void => {
      sendJson(res, HTTP_STATUS[outcome.status], outcome.body, { ...cors, ...outcomeHeaders(outcome), ...headers });
    };

    const matched = matchRoutes(path);
    if (matched.length === 0) return answer(fail("unknown_operation", `no API route ${path}`));
    const methods = [...new Set(matched.map(({ route }) => route.method))];
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        ...cors,
        allow: [...methods, "OPTIONS"].join(", "),
        "access-control-allow-methods": [...methods, "OPTIONS"].join(", "),
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
        "cache-control": "no-store",
      });
      res.end();
      return;
    }
    const hit = matched.find(({ route }) => route.method === req.method);
    if (hit === undefined) {
      const allow = [...methods, "OPTIONS"].join(", ");
      return sendJson(res, 405, fail("unknown_operation", `${path} takes ${methods.join(" or ")}, not ${req.method ?? "?"}`).body, { ...cors, allow });
    }

    const appKeyHeader = req.headers["x-gmnet-app-key"];
    const appKey = appKeyHeader === undefined ? DEFAULT_APP_KEY : String(appKeyHeader);
    if (!isValidAppKey(appKey)) return answer(fail("invalid_body", `X-Gmnet-App-Key must be ${APP_KEY_RULE}`));

    let body: unknown;
    if (hit.route.method === "GET") {
      body = { ...queryFields(query), ...hit.parameters, ...hit.route.fixed };
    } else {
      const read = await readBody(req, config.masterMaxBodyBytes, config.masterRequestTimeoutMs);
      if ("problem" in read) {
        if (read.problem === "aborted") return; // nobody left to answer
        if (read.problem === "timeout") {
          return sendJson(res, 408, fail("timeout", `the request body did not arrive within ${config.masterRequestTimeoutMs} ms`).body, { ...cors, connection: "close" });
        }
        // The one answer whose HTTP status is not its response status's (INVALID would be 400).
        discardRest(req);
        return sendJson(res, 413, fail("invalid_body", `the body is larger than ${config.masterMaxBodyBytes} bytes`).body, cors);
      }
      let parsed: unknown;
      try {
        parsed = read.bytes.length === 0 ? {} : JSON.parse(utf8.decode(read.bytes));
      } catch {
        return answer(fail("invalid_body", "the body is not JSON text in UTF-8"));
      }
      const routeFields = { ...hit.parameters, ...hit.route.fixed };
      if (Object.keys(routeFields).length > 0) {
        if (!isPlainObject(parsed)) return answer(fail("invalid_body", "the body must be a JSON object"));
        parsed = { ...parsed, ...routeFields };
      }
      body = parsed;
    }

    let caller: Caller;
    try {
      caller = await callerOf(req, appKey);
    } catch (error) {
      // The bearer token could not be checked (a storage failure): answered as a failing handler is.
      logger.error({ err: error, path }, "master HTTP request: checking the bearer token failed");
      return answer({ status: MasterStatus.ERROR, body: { error: "internal", message: "the server failed while handling this request" } });
    }
    const outcome = await deps.dispatch(caller, hit.route.op, body);
    answer(outcome);
  };

  /** Who is asking: the app key, the address, and the login the bearer token stands for. */
  const callerOf = async (req: IncomingMessage, appKey: string): Promise<Caller> => {
    const address = clientAddress(req, config.trustProxy);
    const authorization = req.headers.authorization;
    if (authorization === undefined) return { via: "http", appKey, address, session: undefined, login: undefined };
    const bearer = /^Bearer +(\S+) *$/i.exec(authorization);
    if (bearer === null) return { via: "http", appKey, address, session: undefined, login: undefined, tokenProblem: "token_invalid" };
    const bearerToken = bearer[1]!;
    const verified = await deps.auth.verifyToken(appKey, bearerToken);
    if ("problem" in verified) return { via: "http", appKey, address, session: undefined, login: undefined, tokenProblem: verified.problem, bearerToken };
    // On a node that forwards to the master home this finds nothing; the home looks again (master-forwarder.ts).
    return { via: "http", appKey, address, session: deps.online.sessionHolding(appKey, verified.login), login: verified.login, bearerToken };
  };

  /** Resolves with the body, or why there is none; stops buffering past `limit` bytes. */
  const readBody = (req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyRead> => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) return Promise.resolve({ problem: "too_large" });
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = (result: BodyRead): void => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("close", onClose);
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) finish({ problem: "too_large" });
        else chunks.push(chunk);
      };
      const onEnd = (): void => finish({ bytes: Buffer.concat(chunks, size) });
      const onClose = (): void => finish({ problem: "aborted" });
      const timer = clock.setTimeout(() => finish({ problem: "timeout" }), timeoutMs);
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("close", onClose);
    });
  };

  return (req, res) => {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    if (rawPath !== "/api" && !rawPath.startsWith("/api/")) return false;
    // A stream error (a reset connection) must end here, never as an uncaught exception.
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const path = rawPath.length > 1 && rawPath.endsWith("/") ? rawPath.slice(0, -1) : rawPath;
    handle(req, res, path, queryAt < 0 ? "" : url.slice(queryAt + 1)).catch((error: unknown) => {
      logger.error({ err: error, url }, "master HTTP request failed");
      sendJson(res, 500, fail("internal", "the server failed while handling this request").body, corsHeaders(req.headers.origin, config.corsOrigins));
    });
    return true;
  };
}

function isParameter(segment: string): boolean {
  return segment.startsWith("{") && segment.endsWith("}");
}

/** Routes whose path matches, the most specific (fewest parameters) only, each with its parameters as body fields. */
function matchRoutes(path: string): Array<{ route: Route; parameters: Body }> {
  const segments = path.split("/").slice(1);
  const matches: Array<{ route: Route; parameters: Body }> = [];
  for (const route of ROUTES) {
    if (route.segments.length !== segments.length) continue;
    const parameters: Array<[string, unknown]> = [];
    const fits = route.segments.every((pattern, i) => {
      const segment = segments[i]!;
      if (!isParameter(pattern)) return pattern === segment;
      if (segment === "") return false;
      const name = pattern.slice(1, -1);
      parameters.push([name, fieldValue(name, decodeSegment(segment))]);
      return true;
    });
    if (fits) matches.push({ route, parameters: Object.fromEntries(parameters) });
  }
  const fewest = Math.min(...matches.map(({ route }) => route.parameters));
  return matches.filter(({ route }) => route.parameters === fewest);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Query parameters as body fields (the first of repeated keys; empty values are left out). */
function queryFields(query: string): Body {
  const fields: Array<[string, unknown]> = [];
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(query)) {
    if (value === "" || seen.has(key)) continue;
    seen.add(key);
    fields.push([key, fieldValue(key, value)]);
  }
  // fromEntries defines own properties: a "__proto__" key stays a key (and the schema refuses it).
  return Object.fromEntries(fields);
}

/** Numbers and booleans for the fields that hold them; a value that is not one stays a string, for the schema to name. */
function fieldValue(name: string, raw: string): unknown {
  if (NUMBER_FIELDS.has(name)) {
    const value = Number(raw);
    return raw.trim() !== "" && Number.isFinite(value) ? value : raw;
  }
  if (BOOLEAN_FIELDS.has(name)) return raw === "true" ? true : raw === "false" ? false : raw;
  return raw;
}

function isPlainObject(value: unknown): value is Body {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** CORS response headers for a request from `origin` (§16.8). */
function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes("*")) return { "access-control-allow-origin": "*", "access-control-expose-headers": "retry-after" };
  // The answer depends on the Origin: caches must keep one per origin.
  if (origin === undefined || !allowed.includes(origin)) return { vary: "Origin" };
  return { vary: "Origin", "access-control-allow-origin": origin, "access-control-expose-headers": "retry-after" };
}

/** WWW-Authenticate for 401s (RFC 6750), Retry-After for lockouts. */
function outcomeHeaders(outcome: Outcome): Record<string, string> {
  const error = outcome.body.error;
  if (outcome.status === MasterStatus.UNAUTHORIZED) {
    return { "www-authenticate": error === "token_invalid" || error === "token_expired" ? 'Bearer error="invalid_token"' : "Bearer" };
  }
  const retryAfterMs = outcome.body.retryAfterMs;
  if (outcome.status === MasterStatus.RATE_LIMITED && typeof retryAfterMs === "number") return { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return {};
}

function sendJson(res: ServerResponse, status: number, body: Body, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(text);
}

/** Reads and drops what is left of a refused body, so the client can read the 413; cuts the connection past the limit. */
function discardRest(req: IncomingMessage): void {
  if (req.complete) return;
  let dropped = 0;
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}
