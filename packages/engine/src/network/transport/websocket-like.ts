/**
 * The part of the WebSocket API gmnet uses, satisfied by the browser's WebSocket and by the `ws`
 * package's, so Node bots and tests inject `ws` while browsers use the global (simple-peer's
 * `opts.wrtc` idea). Handler parameters are typed `never` so that both libraries' handler types
 * fit; handlers read the event through the small shapes below.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface MessageEventLike {
  readonly data: unknown;
}

export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

export const WS_OPEN = 1;

/** The platform's WebSocket, if it has one (browsers, Node ≥ 22). */
export function platformWebSocket(): WebSocketConstructor | undefined {
  const candidate = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof candidate === "function" ? (candidate as WebSocketConstructor) : undefined;
}

/** A received message as bytes and whether it was a text frame. Blobs are not expected: binaryType is "arraybuffer". */
export function messageBytes(data: unknown): { bytes: Uint8Array; text: boolean } | undefined {
  if (typeof data === "string") return { bytes: new TextEncoder().encode(data), text: true };
  if (data instanceof ArrayBuffer) return { bytes: new Uint8Array(data), text: false };
  if (ArrayBuffer.isView(data)) return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), text: false };
  return undefined;
}

/** The text of a WebSocket error event where the implementation gives one (ws does; browsers do not). */
export function errorMessageOf(event: unknown): string | undefined {
  const message = (event as { message?: unknown } | null)?.message;
  return typeof message === "string" && message !== "" ? message : undefined;
}
