/**
 * The messages of one Redis Stream entry on the bus (PROTOCOL.md §15). A node writes the messages
 * it has for one other node during one turn of the event loop as one entry, so a burst of stream
 * data costs one XADD, one entry to read and one sequence number instead of one per frame.
 *
 * The entry's `m` field is the messages back to back, each:
 *
 *   u32 BE  header length (bytes)   header   JSON of the BusMessage, UTF-8
 *   u32 BE  data length + 1         data     the frame bytes; length field 0: no data
 *
 * Pure functions; unpack throws BusEntryError on anything that does not parse back exactly.
 */

/** One bus message as written: its JSON header and, for stream data and datagrams, its bytes. */
export interface PackedMessage {
  readonly header: string;
  readonly data: Uint8Array | undefined;
}

export class BusEntryError extends Error {
  readonly code = "E_BUS_ENTRY";

  constructor(message: string) {
    super(message);
    this.name = "BusEntryError";
  }
}

const LENGTH_BYTES = 4;

/** The bytes a message takes in an entry (what the outbound bound counts). */
export function packedSize(headerBytes: number, data: Uint8Array | undefined): number {
  return 2 * LENGTH_BYTES + headerBytes + (data?.byteLength ?? 0);
}

export function packMessages(messages: readonly PackedMessage[]): Buffer {
  const headers = messages.map((message) => Buffer.from(message.header, "utf8"));
  let total = 0;
  messages.forEach((message, i) => (total += packedSize(headers[i]!.byteLength, message.data)));
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  messages.forEach((message, i) => {
    const header = headers[i]!;
    at = out.writeUInt32BE(header.byteLength, at);
    at += header.copy(out, at);
    const data = message.data;
    at = out.writeUInt32BE(data === undefined ? 0 : data.byteLength + 1, at);
    if (data !== undefined) {
      out.set(data, at);
      at += data.byteLength;
    }
  });
  return out;
}

/** The messages of an entry; data are views into `packed`. */
export function unpackMessages(packed: Uint8Array): PackedMessage[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const messages: PackedMessage[] = [];
  let at = 0;
  const take = (length: number, what: string): Uint8Array => {
    if (length > packed.byteLength - at) throw new BusEntryError(`a bus entry ends inside a message's ${what} (${length} bytes announced at ${at}, ${packed.byteLength - at} left)`);
    const bytes = packed.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const length = (what: string): number => {
    const bytes = take(LENGTH_BYTES, `${what} length`);
    return view.getUint32(bytes.byteOffset - packed.byteOffset);
  };
  while (at < packed.byteLength) {
    let header: string;
    try {
      header = decoder.decode(take(length("header"), "header"));
    } catch (error) {
      if (error instanceof BusEntryError) throw error;
      throw new BusEntryError("a bus message header is not UTF-8");
    }
    const dataLength = length("data");
    messages.push({ header, data: dataLength === 0 ? undefined : take(dataLength - 1, "data") });
  }
  return messages;
}
