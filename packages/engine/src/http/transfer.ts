/**
 * One HTTP request, from fetch to its async events. Everything that can go wrong after the call
 * returned (no connection, a timeout, a broken body, storage refusing the file) becomes an
 * ev_async_web event with a negative status: this module never lets a promise reject unhandled.
 */
import { ev_async_web } from "../events/async-events.js";
import { concatBytes } from "@gmnet/protocol";
import type { EngineContext } from "../runtime/context.js";

/** `async_load.status` values of ev_async_web events. */
export const HttpStatus = {
  /** Done: an HTTP response arrived (any http_status, 2xx or not) and its body was read. */
  DONE: 0,
  /** Progress while the body downloads: `sizeDownloaded` and `contentLength`. */
  PROGRESS: 1,
  /** No HTTP response: connection refused, DNS failure, CORS refusal, invalid URL. */
  NETWORK: -1,
  /** No response headers within http_set_connect_timeout's time. */
  TIMEOUT: -2,
  /** The headers arrived but the body broke off before its end. */
  ABORTED: -3,
  /** The response arrived but could not be stored (http_get_file's storage, or a deleted target buffer). */
  STORAGE: -4,
} as const;

/** `async_load.error` of the negative statuses: stable strings, listed in docs/HTTP.md. */
export const HttpError = {
  NETWORK: "E_HTTP_NETWORK",
  TIMEOUT: "E_HTTP_TIMEOUT",
  ABORTED: "E_HTTP_ABORTED",
  STORAGE: "E_HTTP_STORAGE",
} as const;

export type HttpError = (typeof HttpError)[keyof typeof HttpError];

/** A status-1 event at most once per this many new bytes: several for multi-megabyte bodies, none for small ones. */
export const PROGRESS_INTERVAL = 64 * 1024;

/** Where the response body goes. */
export type ResponseTarget =
  | { readonly kind: "string" }
  | { readonly kind: "buffer"; readonly buffer: number }
  | { readonly kind: "file"; readonly filename: string; readonly name: string };

export interface Transfer {
  readonly id: number;
  /** The URL exactly as the script passed it; reported as `async_load.url` even after redirects. */
  readonly url: string;
  readonly init: RequestInit;
  readonly target: ResponseTarget;
  /** Milliseconds to wait for the response headers; 0 waits forever. */
  readonly timeoutMs: number;
}

interface Answer {
  readonly http_status: number;
  readonly response_headers: Record<string, string>;
}

const NO_ANSWER: Answer = { http_status: 0, response_headers: {} };

class Failure {
  constructor(
    readonly status: number,
    readonly error: HttpError,
    readonly answer: Answer,
  ) {}
}

/** Starts the request in the background; its events follow through context.events. */
export function startTransfer(context: EngineContext, transfer: Transfer): void {
  run(context, transfer).catch((failure: unknown) => {
    const { status, error, answer } =
      failure instanceof Failure ? failure : new Failure(HttpStatus.NETWORK, HttpError.NETWORK, NO_ANSWER);
    push(context, transfer, { status, result: "", ...answer, error });
  });
}

async function run(context: EngineContext, transfer: Transfer): Promise<void> {
  const response = await fetchHeaders(context, transfer);
  const answer: Answer = { http_status: response.status, response_headers: headersObject(response.headers) };
  const body = await readBody(context, transfer, response, answer);
  const result = await store(context, transfer.target, body, answer);
  push(context, transfer, { status: HttpStatus.DONE, result, ...answer });
}

/** fetch up to the response headers, under the connect timeout. */
async function fetchHeaders(context: EngineContext, transfer: Transfer): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    transfer.timeoutMs > 0
      ? context.clock.setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, transfer.timeoutMs)
      : undefined;
  try {
    return await context.fetch(transfer.url, { ...transfer.init, signal: controller.signal });
  } catch {
    throw timedOut ? new Failure(HttpStatus.TIMEOUT, HttpError.TIMEOUT, NO_ANSWER) : new Failure(HttpStatus.NETWORK, HttpError.NETWORK, NO_ANSWER);
  } finally {
    if (timer !== undefined) context.clock.clearTimeout(timer);
  }
}

/** Streams the body, raising status-1 events as it grows. */
async function readBody(context: EngineContext, transfer: Transfer, response: Response, answer: Answer): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(0);
  const contentLength = expectedLength(response.headers);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let downloaded = 0;
  let reported = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      downloaded += value.length;
      if (downloaded - reported >= PROGRESS_INTERVAL) {
        reported = downloaded;
        push(context, transfer, { status: HttpStatus.PROGRESS, sizeDownloaded: downloaded, contentLength });
      }
    }
  } catch {
    reader.cancel().catch(() => undefined);
    throw new Failure(HttpStatus.ABORTED, HttpError.ABORTED, answer);
  }
  return concatBytes(chunks, downloaded);
}

/** Puts the body where the request asked; returns `async_load.result`. */
async function store(context: EngineContext, target: ResponseTarget, body: Uint8Array, answer: Answer): Promise<string | number> {
  switch (target.kind) {
    case "string":
      return new TextDecoder("utf-8").decode(body);
    case "buffer": {
      const buffer = context.buffers.get(target.buffer);
      if (buffer === undefined) throw new Failure(HttpStatus.STORAGE, HttpError.STORAGE, answer);
      return buffer.writeBytes(0, body);
    }
    case "file":
      try {
        await context.storage().write(target.name, body);
      } catch {
        throw new Failure(HttpStatus.STORAGE, HttpError.STORAGE, answer);
      }
      return target.filename;
  }
}

function push(context: EngineContext, transfer: Transfer, load: Record<string, unknown>): void {
  context.events.push(ev_async_web, { id: transfer.id, url: transfer.url, ...load });
}

/** Header names are lowercase (as fetch gives them); repeated headers are joined with ", ". */
function headersObject(headers: Headers): Record<string, string> {
  const entries: Array<[string, string]> = [];
  headers.forEach((value, name) => entries.push([name, value]));
  return Object.fromEntries(entries);
}

/**
 * The Content-Length the server announced, or -1 when it sent none or encoded the body (gzip…):
 * fetch hands over decoded bytes, which an encoded length would not match.
 */
function expectedLength(headers: Headers): number {
  const encoding = headers.get("content-encoding");
  if (encoding !== null && encoding.trim().toLowerCase() !== "identity") return -1;
  const length = Number(headers.get("content-length") ?? Number.NaN);
  return Number.isSafeInteger(length) && length >= 0 ? length : -1;
}
