/**
 * The bridge configuration's B (network.bench.ts): a native GameMaker client on real TCP, which
 * reaches engine A's server through the signaling server's --gm-bridge.
 */
import { type Socket, connect } from "node:net";
import { EchoInbox, type EchoPath } from "./echo-path.js";
import { SETUP_TIMEOUT_MS } from "./options.js";

/**
 * A native GameMaker client on real TCP, written here from GameMaker's documented wire format (not
 * the engine's codec): read the greeting "GM:Studio-Connect\0", answer 0xCAFEBABE 0xDEADB00B 16 0,
 * read the 12-byte 0xDEAFBEAD 0xF00DBEEB 12 confirm; then every packet is a 12-byte header
 * (0xDEADC0DE, 12, payload length, little-endian) and the payload.
 */
export class NativeGmClient implements EchoPath {
  offPath = 0;
  private readonly inbox = new EchoInbox();
  private readonly template = Buffer.alloc(12 + 65536);
  private pending: Buffer = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 12) {
        const size = this.pending.readUInt32LE(8);
        if (this.pending.readUInt32LE(0) !== 0xdeadc0de || this.pending.readUInt32LE(4) !== 12) return this.inbox.close("native client: a packet without GameMaker's header");
        if (this.pending.length < 12 + size) break;
        this.inbox.push(this.pending.readUInt32LE(12));
        this.pending = this.pending.subarray(12 + size);
      }
    });
    socket.on("close", () => this.inbox.close("native client: the bridge closed the TCP connection"));
    this.template.writeUInt32LE(0xdeadc0de, 0);
    this.template.writeUInt32LE(12, 4);
  }

  static async open(port: number): Promise<NativeGmClient> {
    const socket = connect({ host: "127.0.0.1", port, noDelay: true });
    socket.on("error", () => undefined); // "close" follows
    let received = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no GameMaker handshake through the bridge within ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
      const greeting = Buffer.from("GM:Studio-Connect\0", "latin1");
      let greeted = false;
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        if (!greeted && received.length >= greeting.length) {
          if (!received.subarray(0, greeting.length).equals(greeting)) return reject(new Error("the bridged server did not greet with GM:Studio-Connect"));
          greeted = true;
          received = received.subarray(greeting.length);
          const reply = Buffer.alloc(16);
          [0xcafebabe, 0xdeadb00b, 16, 0].forEach((word, i) => reply.writeUInt32LE(word, i * 4));
          socket.write(reply);
        }
        if (greeted && received.length >= 12) {
          if (received.readUInt32LE(0) !== 0xdeafbead || received.readUInt32LE(4) !== 0xf00dbeeb) return reject(new Error("the bridged server's handshake confirm is wrong"));
          clearTimeout(timer);
          socket.off("data", onData);
          resolve();
        }
      };
      socket.on("data", onData);
    });
    return new NativeGmClient(socket);
  }

  send(seq: number, size: number): void {
    this.template.writeUInt32LE(size, 8);
    this.template.writeUInt32LE(seq >>> 0, 12);
    // Node copies nothing on write: the template is reused, so hand it a copy.
    this.socket.write(Buffer.from(this.template.subarray(0, 12 + size)));
  }

  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    return this.inbox.receive(timeoutMs, onEcho);
  }
}
