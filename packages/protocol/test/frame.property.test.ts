/**
 * The frame layer (PROTOCOL.md §2): encode → decode round trips, decoding the same byte stream
 * pushed in arbitrary pieces, garbage in → frames or FrameError (never another error, never a
 * recovery after a failure), a hand-written hex fixture, and the header checks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ack, ArbitraryData, Channel, ControlType, FRAME_HEADER_SIZE, type Frame, FrameDecoder, FrameError, Priority, ProtocolError, VSocketType, concatFrames, encodeAckFrame, encodeArbitraryDataFrame, encodeFrame } from "../src/index.js";

/** A frame as the encoder takes it (flags are always 0: no flag bit is defined yet). */
interface FrameSpec {
  channel: number;
  type: number;
  priority: number;
  payload: Uint8Array;
}

const frameArb = (maxPayload = 4096): fc.Arbitrary<FrameSpec> =>
  fc.record({
    channel: fc.integer({ min: 0, max: 0xffff }),
    type: fc.integer({ min: 0, max: 0xffff }),
    priority: fc.integer({ min: 0, max: 3 }),
    // Mostly small payloads (the common case), sometimes a few KB, sometimes empty.
    payload: fc.oneof(
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxPayload }) },
    ),
  });

const framesArb = (maxFrames = 16, maxPayload = 4096) => fc.array(frameArb(maxPayload), { maxLength: maxFrames });

const MAX_PAYLOAD = 4096;
const decoder = (maxPayload = MAX_PAYLOAD): FrameDecoder => new FrameDecoder({ maxPayload });

/** Frames as plain data with a copied payload, so comparisons do not depend on views or offsets. */
const plain = (frames: readonly Frame[]) => frames.map((f) => ({ channel: f.channel, type: f.type, priority: f.priority, flags: f.flags, payload: Uint8Array.from(f.payload) }));
const expected = (specs: readonly FrameSpec[]) => specs.map((s) => ({ channel: s.channel, type: s.type, priority: s.priority, flags: 0, payload: Uint8Array.from(s.payload) }));

const encodeAll = (specs: readonly FrameSpec[]): Uint8Array => concatFrames(specs.map((s) => encodeFrame(s.channel, s.type, s.priority, s.payload)));

/** Frames, their encoded byte stream, and up to `maxCuts` cut points in it (sorted, distinct). */
const streamWithCutsArb = (maxFrames: number, maxPayload: number, maxCuts: number) =>
  framesArb(maxFrames, maxPayload).chain((specs) => {
    const bytes = encodeAll(specs);
    const cuts = fc.uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: maxCuts }).map((c) => c.sort((a, b) => a - b));
    return fc.tuple(fc.constant(specs), fc.constant(bytes), cuts);
  });

/** Pushes `bytes` cut at `cuts` (sorted, deduplicated offsets) and returns every frame decoded. */
function pushInPieces(target: FrameDecoder, bytes: Uint8Array, cuts: readonly number[]): Frame[] {
  const out: Frame[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...target.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text: string): Uint8Array => Uint8Array.from(text.replace(/\s+/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16));

/** Calls `fn` and returns the FrameError it throws; fails the test if it throws anything else or nothing. */
function frameErrorOf(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw new Error(`expected a FrameError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a FrameError, nothing was thrown");
}

/** A 12-byte header with every field free, including the ones the decoder must refuse. */
function rawHeader(fields: { channel?: number; type?: number; priority?: number; flags?: number; reserved?: number; length?: number }): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint16(0, fields.channel ?? 0, true);
  view.setUint16(2, fields.type ?? 0, true);
  view.setUint8(4, fields.priority ?? 0);
  view.setUint8(5, fields.flags ?? 0);
  view.setUint16(6, fields.reserved ?? 0, true);
  view.setUint32(8, fields.length ?? 0, true);
  return out;
}

describe("frame codec: round trip", () => {
  it("decodes a concatenation of encoded frames (one WebSocket message) to the same frames", () => {
    fc.assert(
      fc.property(framesArb(), (specs) => {
        const bytes = encodeAll(specs);
        expect(bytes.length).toBe(specs.reduce((sum, s) => sum + FRAME_HEADER_SIZE + s.payload.length, 0));
        const d = decoder();
        expect(plain(d.push(bytes))).toEqual(expected(specs));
        expect(d.buffered).toBe(0);
      }),
    );
  });

  it("decodes a stream of separately pushed messages, one batch per push", () => {
    fc.assert(
      fc.property(fc.array(framesArb(6), { maxLength: 6 }), (batches) => {
        const d = decoder();
        const decoded = batches.flatMap((batch) => plain(d.push(encodeAll(batch))));
        expect(decoded).toEqual(expected(batches.flat()));
        expect(d.buffered).toBe(0);
      }),
    );
  });

  it("decodes the same frames whatever the cut points of the byte stream", () => {
    fc.assert(
      fc.property(streamWithCutsArb(12, 4096, 40), ([specs, bytes, cuts]) => {
        const d = decoder();
        expect(plain(pushInPieces(d, bytes, cuts))).toEqual(expected(specs));
        expect(d.buffered).toBe(0);
      }),
    );
  });

  it("keeps its own copy of an unfinished tail, so the caller may reuse a chunk after pushing it", () => {
    fc.assert(
      fc.property(streamWithCutsArb(8, 512, 20), ([specs, bytes, cuts]) => {
        const d = decoder();
        const decoded: ReturnType<typeof plain> = [];
        let from = 0;
        for (const cut of [...cuts, bytes.length]) {
          const chunk = bytes.slice(from, cut);
          // Frames returned by a push may view the chunk; the caller copies what it keeps.
          decoded.push(...plain(d.push(chunk)));
          chunk.fill(0xee);
          from = cut;
        }
        expect(decoded).toEqual(expected(specs));
      }),
    );
  });

  it("decodes the same frames when the stream arrives one byte at a time", () => {
    fc.assert(
      fc.property(framesArb(6, 300), (specs) => {
        const bytes = encodeAll(specs);
        const d = decoder();
        const cuts = Array.from({ length: bytes.length }, (_, i) => i);
        expect(plain(pushInPieces(d, bytes, cuts))).toEqual(expected(specs));
        expect(d.buffered).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it("reports the unfinished tail as buffered and yields nothing until the frame is whole", () => {
    fc.assert(
      fc.property(frameArb(), fc.nat(), (spec, at) => {
        const bytes = encodeFrame(spec.channel, spec.type, spec.priority, spec.payload);
        const cut = at % bytes.length; // 0 … length-1: never the whole frame
        const d = decoder();
        expect(d.push(bytes.subarray(0, cut))).toEqual([]);
        expect(d.buffered).toBe(cut);
        expect(plain(d.push(bytes.subarray(cut)))).toEqual(expected([spec]));
        expect(d.buffered).toBe(0);
      }),
    );
  });
});

describe("frame codec: garbage in", () => {
  /** Pushes `chunks`, checking each push yields frames or throws FrameError, and that a failure is final. */
  function pushGarbage(d: FrameDecoder, chunks: readonly Uint8Array[], maxPayload: number): void {
    let failure: FrameError | undefined;
    for (const chunk of chunks) {
      if (failure) {
        const again = frameErrorOf(() => d.push(chunk));
        expect(again.code).toBe(failure.code);
        continue;
      }
      try {
        for (const frame of d.push(chunk)) {
          // Anything the decoder lets through is a well-formed frame.
          expect(frame.priority).toBeLessThanOrEqual(3);
          expect(frame.flags).toBe(0);
          expect(frame.payload.length).toBeLessThanOrEqual(maxPayload);
        }
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        expect([ProtocolError.MALFORMED_FRAME, ProtocolError.FRAME_TOO_LARGE]).toContain(error.code);
        failure = error;
      }
    }
    if (failure) {
      // Every later push throws too, even an empty one or a perfectly valid frame.
      expect(frameErrorOf(() => d.push(new Uint8Array(0))).code).toBe(failure.code);
      expect(frameErrorOf(() => d.push(encodeFrame(0, 4, 0, new Uint8Array(12)))).code).toBe(failure.code);
    }
  }

  it("random bytes in random pieces yield frames or FrameError, never another error", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), fc.integer({ min: 0, max: 256 }), (chunks, maxPayload) => {
        pushGarbage(new FrameDecoder({ maxPayload }), chunks, maxPayload);
      }),
      { numRuns: 300 },
    );
  });

  it("valid streams with random byte mutations yield frames or FrameError, and a failure is final", () => {
    const mutated = framesArb(8, 512).chain((specs) => {
      const bytes = encodeAll(specs);
      const edits = bytes.length === 0 ? fc.constant([]) : fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });
      const cuts = fc.uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }).map((c) => c.sort((a, b) => a - b));
      return fc.tuple(fc.constant(bytes), edits, cuts);
    });
    fc.assert(
      fc.property(mutated, ([original, edits, cuts]) => {
        const bytes = original.slice();
        for (const [at, value] of edits) bytes[at] = value;
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const cut of [...cuts, bytes.length]) {
          chunks.push(bytes.subarray(from, cut));
          from = cut;
        }
        pushGarbage(decoder(512), chunks, 512);
      }),
      { numRuns: 300 },
    );
  });
});

describe("frame codec: fixtures and header checks", () => {
  it("encodes channel 1, type 16, priority 2, payload 01 02 03 to the bytes of the spec", () => {
    // channel u16 | type u16 | priority u8 | flags u8 | reserved u16 | length u32 | payload, little-endian
    const fixture = "0100 1000 02 00 0000 03000000 010203";
    const frame = encodeFrame(1, 16, 2, Uint8Array.of(1, 2, 3));
    expect(hex(frame)).toBe(fixture.replace(/ /g, ""));
    expect(plain(decoder().push(fromHex(fixture)))).toEqual([{ channel: 1, type: 16, priority: 2, flags: 0, payload: Uint8Array.of(1, 2, 3) }]);
  });

  it("puts the low byte first in every header field", () => {
    const frame = encodeFrame(0x1234, 0xabcd, 3, new Uint8Array(0x0102));
    expect(hex(frame.subarray(0, FRAME_HEADER_SIZE))).toBe("3412cdab0300000002010000");
  });

  it("encodes an empty payload as a bare 12-byte header", () => {
    expect(hex(encodeFrame(0, 4, 0, new Uint8Array(0)))).toBe("000004000000000000000000");
  });

  it("throws FRAME_TOO_LARGE as soon as a header announces more than maxPayload, before the payload arrives", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 11 }), (maxPayload, excess, split) => {
        const length = Math.min(maxPayload + excess, 0xffffffff);
        const d = new FrameDecoder({ maxPayload });
        const header = rawHeader({ channel: 1, type: 16, priority: 2, length });
        // The first part of the header is not judged yet; the byte completing it is.
        expect(d.push(header.subarray(0, split))).toEqual([]);
        const error = frameErrorOf(() => d.push(header.subarray(split)));
        expect(error.code).toBe(ProtocolError.FRAME_TOO_LARGE);
        expect(d.buffered).toBe(0); // nothing of the announced payload is held
        expect(frameErrorOf(() => d.push(new Uint8Array(1))).code).toBe(ProtocolError.FRAME_TOO_LARGE);
      }),
    );
  });

  it("accepts a payload of exactly maxPayload bytes", () => {
    const d = new FrameDecoder({ maxPayload: 1000 });
    const frame = encodeFrame(1000, 1, 2, new Uint8Array(1000).fill(7));
    expect(d.push(frame.subarray(0, FRAME_HEADER_SIZE))).toEqual([]);
    const [decoded] = d.push(frame.subarray(FRAME_HEADER_SIZE));
    expect(decoded?.payload.length).toBe(1000);
  });

  it("refuses unknown flag bits, nonzero reserved bytes and priorities above 3 with MALFORMED_FRAME", () => {
    const bad = fc.oneof(
      fc.integer({ min: 1, max: 255 }).map((flags) => rawHeader({ flags })),
      fc.integer({ min: 1, max: 0xffff }).map((reserved) => rawHeader({ reserved })),
      fc.integer({ min: 4, max: 255 }).map((priority) => rawHeader({ priority })),
    );
    fc.assert(
      fc.property(bad, fc.uint8Array({ maxLength: 16 }), (header, trailing) => {
        const d = decoder();
        const error = frameErrorOf(() => d.push(concatFrames([header, trailing])));
        expect(error.code).toBe(ProtocolError.MALFORMED_FRAME);
        expect(frameErrorOf(() => d.push(encodeFrame(0, 4, 0, new Uint8Array(0)))).code).toBe(ProtocolError.MALFORMED_FRAME);
      }),
    );
  });

  it("refuses a bad header that follows good frames in the same push", () => {
    const d = decoder();
    const good = encodeFrame(2, 1, 1, Uint8Array.of(9));
    expect(frameErrorOf(() => d.push(concatFrames([good, rawHeader({ priority: 4 })]))).code).toBe(ProtocolError.MALFORMED_FRAME);
  });

  it("FrameError is an Error with a ProtocolError code and its own name", () => {
    const error = frameErrorOf(() => decoder().push(rawHeader({ flags: 0x80 })));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("FrameError");
    expect(error.message).toMatch(/flags/);
  });
});

describe("hand-written hot-path frames", () => {
  // The reference is the general path: the message's schema codec inside encodeFrame.
  it("encodeArbitraryDataFrame writes the bytes of ArbitraryData.encode inside encodeFrame", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 3 }), (connId, seq, data, priority) => {
        const reference = encodeFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, priority, ArbitraryData.encode({ connId, seq, data }));
        expect(encodeArbitraryDataFrame(connId, seq, data, priority)).toEqual(reference);
      }),
    );
  });

  it("encodeAckFrame writes the bytes of Ack.encode inside a Critical CONTROL frame", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (received) => {
        expect(encodeAckFrame(received)).toEqual(encodeFrame(Channel.CONTROL, ControlType.ACK, Priority.CRITICAL, Ack.encode({ received })));
      }),
    );
  });
});
