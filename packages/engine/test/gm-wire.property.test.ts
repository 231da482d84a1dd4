/**
 * Properties of the GameMaker wire codec: payloads survive any cutting of the byte stream,
 * handshakes survive any split, and garbage never throws, never hangs and never makes the
 * decoder hold more than one header plus maxPacketSize bytes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GM_HANDSHAKE_GREETING,
  GM_HEADER_SIZE,
  GmClientHandshake,
  type GmDecoded,
  GmPacketDecoder,
  GmServerHandshake,
  encodeGmClientReply,
  encodeGmPacket,
  encodeGmServerReply,
} from "../src/network/wire/gm-wire.js";
import { concatBytes } from "./helpers.js";

const MAX = 4096;

const payloadArb = fc.oneof({ weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: MAX }) });

/** `bytes` together with sorted, distinct cut offsets. */
const withCuts = (bytes: Uint8Array, maxCuts = 40) =>
  fc.tuple(fc.constant(bytes), fc.uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: maxCuts }).map((c) => c.sort((a, b) => a - b)));

function pieces(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // A copy per piece, filled with junk after use below, to catch retained views.
    out.push(bytes.slice(from, cut));
    from = cut;
  }
  return out;
}

function decodeAll(d: GmPacketDecoder, chunks: readonly Uint8Array[]): GmDecoded[] {
  const out: GmDecoded[] = [];
  for (const chunk of chunks) {
    out.push(...d.push(chunk));
    chunk.fill(0xee);
  }
  return out;
}

const packets = (payloads: readonly Uint8Array[]): GmDecoded[] => payloads.map((payload) => ({ kind: "packet", payload: Uint8Array.from(payload) }));

describe("gm wire properties: packets", () => {
  it("decodes concatenated packets cut at arbitrary points to the same payloads", () => {
    const arb = fc.array(payloadArb, { maxLength: 16 }).chain((payloads) => fc.tuple(fc.constant(payloads), withCuts(concatBytes(payloads.map(encodeGmPacket)))));
    fc.assert(
      fc.property(arb, ([payloads, [bytes, cuts]]) => {
        const d = new GmPacketDecoder({ maxPacketSize: MAX });
        expect(decodeAll(d, pieces(bytes, cuts))).toEqual(packets(payloads));
        expect(d.buffered).toBe(0);
      }),
    );
  });

  it("decodes the same payloads when the stream arrives one byte at a time", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (payloads) => {
        const bytes = concatBytes(payloads.map(encodeGmPacket));
        const d = new GmPacketDecoder({ maxPacketSize: MAX });
        expect(decodeAll(d, pieces(bytes, Array.from({ length: bytes.length }, (_, i) => i)))).toEqual(packets(payloads));
      }),
      { numRuns: 50 },
    );
  });

  it("on a message transport, a raw message is one malformed entry and the packets around it still decode", () => {
    // One chunk per WebSocket message; a raw message is anything not starting with the magic's first byte.
    const message = fc.oneof(
      fc.array(payloadArb, { minLength: 1, maxLength: 3 }).map((payloads) => ({ payloads, bytes: concatBytes(payloads.map(encodeGmPacket)) })),
      fc
        .tuple(fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0xde), fc.uint8Array({ maxLength: 64 }))
        .map(([first, tail]) => ({ payloads: undefined, bytes: concatBytes([Uint8Array.of(first), tail]) })),
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), (messages) => {
        const expected = messages.flatMap((m): GmDecoded[] => (m.payloads ? packets(m.payloads) : [{ kind: "malformed", bytes: Uint8Array.from(m.bytes) }]));
        const d = new GmPacketDecoder({ maxPacketSize: MAX });
        expect(decodeAll(d, messages.map((m) => m.bytes.slice()))).toEqual(expected);
        expect(d.buffered).toBe(0);
      }),
    );
  });

  it("garbage never throws, accounts for every byte, and holds at most a header plus maxPacketSize", () => {
    const maxPacketSize = 256;
    // Garbage with real headers sprinkled in, so the decoder also gets deep into payloads.
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 300 }).map(encodeGmPacket),
      fc.integer({ min: 0, max: 400 }).map((n) => encodeGmPacket(new Uint8Array(n)).subarray(0, GM_HEADER_SIZE)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 30 }), (parts, cutSeeds) => {
        const bytes = concatBytes(parts);
        const cuts = [...new Set(cutSeeds.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b);
        const d = new GmPacketDecoder({ maxPacketSize });
        let accounted = 0;
        let pushed = 0;
        for (const chunk of pieces(bytes, cuts)) {
          const wasFailed = d.failed;
          const out = d.push(chunk);
          pushed += chunk.length;
          if (wasFailed) {
            expect(out).toEqual([]);
            continue;
          }
          for (const entry of out) {
            if (entry.kind === "packet") {
              expect(entry.payload.length).toBeLessThanOrEqual(maxPacketSize);
              accounted += GM_HEADER_SIZE + entry.payload.length;
            } else if (entry.kind === "malformed") {
              expect(entry.bytes.length).toBeGreaterThan(0);
              accounted += entry.bytes.length;
            } else {
              expect(entry.size).toBeGreaterThan(maxPacketSize);
              expect(entry).toBe(out[out.length - 1]);
              expect(d.failed).toBe(true);
            }
          }
          expect(d.buffered).toBeLessThanOrEqual(GM_HEADER_SIZE + maxPacketSize);
          // Until it fails, every byte pushed is in an entry or still buffered.
          if (!d.failed) expect(accounted + d.buffered).toBe(pushed);
        }
      }),
    );
  });
});

describe("gm wire properties: handshakes", () => {
  it("client and server connect whatever the splits, and glued packets are kept", () => {
    const arb = fc
      .tuple(fc.array(payloadArb, { maxLength: 4 }), fc.integer({ min: 0, max: 0xffffffff }))
      .chain(([payloads, gameId]) =>
        fc.tuple(
          fc.constant(payloads),
          fc.constant(gameId),
          withCuts(GM_HANDSHAKE_GREETING.slice(), 18),
          withCuts(encodeGmClientReply(gameId), 16),
          withCuts(concatBytes([encodeGmServerReply(), ...payloads.map(encodeGmPacket)]), 20),
        ),
      );
    fc.assert(
      fc.property(arb, ([payloads, gameId, [greeting, greetingCuts], [reply, replyCuts], [welcome, welcomeCuts]]) => {
        const client = new GmClientHandshake({ gameId });
        const server = new GmServerHandshake();
        expect(server.greeting()).toEqual(greeting);

        const replies = pieces(greeting, greetingCuts).flatMap((chunk) => {
          const step = client.push(chunk);
          expect(step.error).toBeUndefined();
          expect(step.done).toBe(false);
          return step.reply ? [step.reply] : [];
        });
        expect(replies).toEqual([reply]);

        // Not done until the last byte of the reply; after that (empty trailing pieces) a pass-through.
        const accepted = pieces(reply, replyCuts).map((chunk) => server.push(chunk));
        const first = accepted.findIndex((step) => step.done);
        expect(accepted.slice(0, first)).toEqual(accepted.slice(0, first).map(() => ({ done: false })));
        expect(accepted[first]).toEqual({ reply: encodeGmServerReply(), done: true, rest: new Uint8Array(0) });
        expect(accepted.slice(first + 1)).toEqual(accepted.slice(first + 1).map(() => ({ done: true, rest: new Uint8Array(0) })));
        expect(server.gameId).toBe(gameId);

        // The client sees the server reply and the packets glued to it, cut anywhere.
        const decoder = new GmPacketDecoder({ maxPacketSize: MAX });
        const decoded: GmDecoded[] = [];
        let done = false;
        for (const chunk of pieces(welcome, welcomeCuts)) {
          const step = client.push(chunk);
          expect(step.error).toBeUndefined();
          expect(step.reply).toBeUndefined();
          if (step.done) {
            done = true;
            decoded.push(...decoder.push(step.rest!));
          }
        }
        expect(done).toBe(true);
        expect(decoded).toEqual(packets(payloads));
      }),
    );
  });

  it("random bytes never throw a handshake machine, and an error is final", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (chunks) => {
        const client = new GmClientHandshake();
        const server = new GmServerHandshake();
        let clientError: string | undefined;
        let serverError: string | undefined;
        for (const chunk of chunks) {
          const c = client.push(chunk);
          if (clientError !== undefined) expect(c).toEqual({ done: false, error: clientError });
          clientError ??= c.error;
          const s = server.push(chunk);
          if (serverError !== undefined) expect(s).toEqual({ done: false, error: serverError });
          serverError ??= s.error;
        }
        // An error only ever comes from bytes that differ from what is expected.
        const all = concatBytes(chunks);
        const greetingPrefix = all.subarray(0, 18);
        if (clientError === undefined) expect(GM_HANDSHAKE_GREETING.subarray(0, greetingPrefix.length)).toEqual(greetingPrefix);
        const replyPrefix = all.subarray(0, 12);
        if (serverError === undefined) expect(encodeGmClientReply().subarray(0, replyPrefix.length)).toEqual(replyPrefix);
        else expect(encodeGmClientReply().subarray(0, replyPrefix.length)).not.toEqual(replyPrefix);
      }),
    );
  });

  it("a single wrong byte anywhere in the greeting or the checked reply is refused", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const greeting = GM_HANDSHAKE_GREETING.slice();
        greeting[index]! ^= flip;
        expect(new GmClientHandshake().push(greeting).error).toBeDefined();
        if (index < 12) {
          const reply = encodeGmClientReply();
          reply[index]! ^= flip;
          expect(new GmServerHandshake().push(reply).error).toBeDefined();
          const serverReply = encodeGmServerReply();
          serverReply[index]! ^= flip;
          const client = new GmClientHandshake();
          client.push(GM_HANDSHAKE_GREETING);
          expect(client.push(serverReply).error).toBeDefined();
        }
      }),
    );
  });
});
