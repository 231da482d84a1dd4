/**
 * A WebSocket client that behaves like GameMaker's HTML5 runner on network_socket_ws(s): in
 * GameMaker mode the first message must be exactly the greeting, the next exactly the
 * confirmation, and every later one exactly one packet (its header's length matches the message);
 * anything else is recorded as a violation. In raw mode every message is kept as it came.
 */
import { deepStrictEqual } from "node:assert/strict";
import { WebSocket } from "ws";
import { CLIENT_REPLY, GREETING, PACKET_HEADER_SIZE, PACKET_MAGIC, SERVER_CONFIRM, Waiters } from "./gm-native.js";

export class Html5Client {
  readonly messages: Buffer[] = [];
  readonly violations: string[] = [];
  closeCode: number | undefined;
  closeReason = "";
  private readonly waiters = new Waiters();
  private taken = 0;
  private step: "greeting" | "confirm" | "packets" = "greeting";

  private constructor(
    readonly ws: WebSocket,
    readonly gamemaker: boolean,
  ) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.violations.push("a text message");
      if (gamemaker) this.check(data);
      this.messages.push(data);
      this.waiters.wake();
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.waiters.wake();
    });
    ws.on("error", () => undefined);
  }

  private check(data: Buffer): void {
    if (this.step === "greeting") {
      if (!data.equals(GREETING)) this.violations.push(`greeting expected, got ${data.length} bytes ${data.subarray(0, 32).toString("hex")}`);
      this.step = "confirm";
    } else if (this.step === "confirm") {
      if (!data.equals(SERVER_CONFIRM)) this.violations.push(`confirmation expected, got ${data.length} bytes ${data.subarray(0, 32).toString("hex")}`);
      this.step = "packets";
    } else if (data.length < PACKET_HEADER_SIZE || data.readUInt32LE(0) !== PACKET_MAGIC || data.readUInt32LE(4) !== PACKET_HEADER_SIZE || data.readUInt32LE(8) !== data.length - PACKET_HEADER_SIZE) {
      this.violations.push(`one whole packet expected, got ${data.length} bytes ${data.subarray(0, 12).toString("hex")}`);
    }
  }

  /** Opens `url` (ws:// or wss://, any certificate accepted), in GameMaker mode unless `gamemaker` is false. */
  static open(url: string, gamemaker = true): Promise<Html5Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, rejectUnauthorized: false });
      const client = new Html5Client(ws, gamemaker);
      ws.once("error", reject);
      ws.once("open", () => {
        ws.off("error", reject);
        resolve(client);
      });
    });
  }

  async next(timeoutMs = 10_000): Promise<Buffer> {
    await this.waiters.until(() => this.messages.length > this.taken || this.closeCode !== undefined, "a message", timeoutMs);
    if (this.messages.length <= this.taken) throw new Error(`closed (${this.closeCode}) instead of a message`);
    return this.messages[this.taken++]!;
  }

  async handshake(): Promise<void> {
    deepStrictEqual(await this.next(), GREETING, "the greeting");
    this.ws.send(CLIENT_REPLY, { binary: true });
    deepStrictEqual(await this.next(), SERVER_CONFIRM, "the confirmation");
  }

  async readPacket(timeoutMs = 10_000): Promise<Buffer> {
    return (await this.next(timeoutMs)).subarray(PACKET_HEADER_SIZE);
  }

  /** The close code, once closed. */
  async closed(timeoutMs = 10_000): Promise<number> {
    await this.waiters.until(() => this.closeCode !== undefined, "the close", timeoutMs);
    return this.closeCode!;
  }

  /** After a test: closes the connection, and fails if a message came that the HTML5 runner would have choked on. */
  finish(): void {
    this.ws.terminate();
    if (this.violations.length > 0) throw new Error(`messages the HTML5 runner would have choked on: ${this.violations.join("; ")}`);
  }
}
