/**
 * http_*: GameMaker's HTTP functions over fetch. Each call checks its arguments (misuse throws a
 * GmnetError), starts the request in the background and returns its async request id; the
 * outcome arrives as ev_async_web events (see transfer.ts and docs/HTTP.md).
 */
import { ErrorCode, GmnetError } from "../errors.js";
import { type EngineContext, liveBuffer, requireNumber, requireString } from "../runtime/context.js";
import { checkFileName } from "../storage/file-storage.js";
import { type ResponseTarget, startTransfer } from "./transfer.js";

/** GameMaker's default connect timeout, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT = 60_000;

/** The methods GameMaker's manual lists, plus PATCH. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"]);
/** fetch (like XMLHttpRequest) refuses these outright, so no web platform can send them. */
const FORBIDDEN_METHODS = new Set(["TRACE", "CONNECT"]);
/** fetch refuses a body on these. */
const BODILESS_METHODS = new Set(["GET", "HEAD"]);

const CROSSORIGIN_CREDENTIALS = {
  anonymous: "same-origin",
  "use-credentials": "include",
} as const satisfies Record<string, RequestCredentials>;

type CrossOrigin = keyof typeof CROSSORIGIN_CREDENTIALS;

/** A header map: a plain object or a Map of header name → value (string, number or boolean). */
export type HttpHeaderMap = Readonly<Record<string, string | number | boolean>> | ReadonlyMap<string, string | number | boolean>;

export function createHttpApi(context: EngineContext) {
  let connectTimeout = DEFAULT_CONNECT_TIMEOUT;
  let crossOrigin: CrossOrigin = "anonymous";

  const start = (url: string, init: RequestInit, target: ResponseTarget): number => {
    const id = context.nextRequestId();
    startTransfer(context, {
      id,
      url,
      init: { ...init, credentials: CROSSORIGIN_CREDENTIALS[crossOrigin] },
      target,
      timeoutMs: connectTimeout,
    });
    return id;
  };

  return {
    /** GET `url`; the event's `result` is the body as a (UTF-8 decoded) string. Returns the request id. */
    http_get(url: string): number {
      return start(requireString(url, "url", "http_get"), { method: "GET" }, { kind: "string" });
    },

    /**
     * GET `url` and save the body as `local_target` in the engine's file storage (where
     * buffer_load reads); the event's `result` is `local_target`. Returns the request id.
     */
    http_get_file(url: string, local_target: string): number {
      const fn = "http_get_file";
      const checkedUrl = requireString(url, "url", fn);
      const name = checkFileName(local_target, fn);
      return start(checkedUrl, { method: "GET" }, { kind: "file", filename: local_target, name });
    },

    /**
     * POST `string` to `url` as application/x-www-form-urlencoded (as GameMaker's HTML5 runner
     * does); the event's `result` is the response body as a string. Returns the request id.
     */
    http_post_string(url: string, string: string): number {
      const fn = "http_post_string";
      const checkedUrl = requireString(url, "url", fn);
      const body = requireString(string, "string", fn);
      const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded" });
      return start(checkedUrl, { method: "POST", headers, body }, { kind: "string" });
    },

    /**
     * Any request. `header_map` is a plain object or a Map (undefined, null or -1 for none). `body` is a
     * string, or a buffer id: with the buffer's seek position at 0 nothing is sent and the
     * response bytes are written into the buffer from offset 0 (`result` = bytes written);
     * otherwise the buffer's bytes up to its used size are sent. A body on GET or HEAD is not sent.
     */
    http_request(url: string, method: string, header_map: HttpHeaderMap | undefined | null | -1, body: string | number | undefined | null): number {
      const fn = "http_request";
      const checkedUrl = requireString(url, "url", fn);
      const verb = checkMethod(method, fn);
      const headers = toHeaders(header_map, fn);
      let target: ResponseTarget = { kind: "string" };
      let payload: string | Uint8Array<ArrayBuffer> | undefined;
      if (typeof body === "number") {
        const buffer = liveBuffer(context, body, fn);
        if (buffer.position === 0) target = { kind: "buffer", buffer: body };
        else payload = buffer.range(0, buffer.used).slice();
      } else if (typeof body === "string") {
        payload = body;
      } else if (body !== undefined && body !== null) {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: body must be a string, a buffer id or undefined, not ${typeof body}`);
      }
      const init: RequestInit = { method: verb, headers };
      if (payload !== undefined && !BODILESS_METHODS.has(verb)) init.body = payload;
      return start(checkedUrl, init, target);
    },

    /** "anonymous" (the default) or "use-credentials". */
    http_get_request_crossorigin(): string {
      return crossOrigin;
    },

    /**
     * "anonymous": cookies and HTTP authentication go only to the page's own origin (fetch
     * credentials "same-origin"); "use-credentials": to every origin (credentials "include").
     * Applies to requests started afterwards.
     */
    http_set_request_crossorigin(origin_type: string): void {
      const mode = requireString(origin_type, "origin_type", "http_set_request_crossorigin");
      if (!Object.hasOwn(CROSSORIGIN_CREDENTIALS, mode)) {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `http_set_request_crossorigin: origin_type must be "anonymous" or "use-credentials", not ${JSON.stringify(mode)}`);
      }
      crossOrigin = mode as CrossOrigin;
    },

    /** The connect timeout in milliseconds (default 60000; 0 = none). */
    http_get_connect_timeout(): number {
      return connectTimeout;
    },

    /**
     * How long a request may take to connect and receive its response headers, in milliseconds;
     * 0 waits forever. Applies to requests started afterwards.
     */
    http_set_connect_timeout(timeout_ms: number): void {
      const ms = requireNumber(timeout_ms, "timeout_ms", "http_set_connect_timeout");
      if (!(ms >= 0 && ms <= 2 ** 31 - 1)) {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `http_set_connect_timeout: timeout_ms must be from 0 to 2147483647, not ${ms}`);
      }
      connectTimeout = Math.trunc(ms);
    },
  };
}

function checkMethod(method: unknown, fn: string): string {
  const verb = requireString(method, "method", fn).toUpperCase();
  if (!METHODS.has(verb)) {
    throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: method must be one of ${[...METHODS].join(", ")}, not ${JSON.stringify(method)}`);
  }
  if (FORBIDDEN_METHODS.has(verb)) {
    throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: browsers' fetch cannot send ${verb} requests`);
  }
  return verb;
}

/** Builds the request headers, rejecting a map of the wrong type or a name or value fetch would refuse. */
function toHeaders(map: unknown, fn: string): Headers {
  const headers = new Headers();
  if (map === undefined || map === null || map === -1) return headers;
  let entries: Array<[unknown, unknown]>;
  if (map instanceof Map) entries = [...map.entries()];
  else if (typeof map === "object" && !Array.isArray(map)) entries = Object.entries(map);
  else throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: header_map must be a plain object or a Map, not ${Array.isArray(map) ? "an array" : typeof map}`);
  for (const [name, value] of entries) {
    if (typeof name !== "string" || !["string", "number", "boolean"].includes(typeof value)) {
      throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: header_map entries must be string names with string or number values (${String(name)})`);
    }
    try {
      headers.append(name, String(value));
    } catch {
      throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: ${JSON.stringify(name)}: ${JSON.stringify(String(value))} is not a valid HTTP header`);
    }
  }
  return headers;
}
