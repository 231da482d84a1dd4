/**
 * The peer adapter (peer-adapter.ts) on its own: signal data validated, the RTT read from stats,
 * failures without WebRTC ending in onError, and two handles connected over real WebRTC
 * (@roamhq/wrtc, loopback). PeerLinks, which builds on it, is udp-peer-links.test.ts.
 */
import wrtc from "@roamhq/wrtc";
import { describe, expect, it } from "vitest";
import { type PeerHandle, type PeerOptions, type PeerSignal, createPeer, parsePeerSignal, rttFromStats } from "../src/network/udp/peer-adapter.js";
import { EventLog } from "./support/event-log.js";

const WEBRTC_TIMEOUT = 20_000;

interface AdapterEvents {
  signals: PeerSignal[];
  opened: EventLog<true>;
  data: EventLog<Uint8Array>;
  ended: EventLog<string>;
}

/** A handle whose callbacks are recorded; "close" or "error:<code>" goes to `ended`. */
function recordedPeer(options: Omit<PeerOptions, "onSignal" | "onOpen" | "onData" | "onClose" | "onError">, onSignal?: (signal: PeerSignal) => void): [PeerHandle, AdapterEvents] {
  const events: AdapterEvents = { signals: [], opened: new EventLog(), data: new EventLog(), ended: new EventLog() };
  const handle = createPeer({
    ...options,
    onSignal: (signal) => {
      events.signals.push(signal);
      onSignal?.(signal);
    },
    onOpen: () => events.opened.push(true),
    onData: (bytes) => events.data.push(bytes),
    onClose: () => events.ended.push("close"),
    onError: (code) => events.ended.push(`error:${code}`),
  });
  return [handle, events];
}

describe("peer adapter", () => {
  it("validates signal data and rebuilds it with only the known fields", () => {
    expect(parsePeerSignal({ type: "offer", sdp: "v=0", extra: 1 })).toEqual({ type: "offer", sdp: "v=0" });
    expect(parsePeerSignal({ type: "answer", sdp: "v=0" })).toEqual({ type: "answer", sdp: "v=0" });
    expect(parsePeerSignal({ type: "candidate", candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0, x: 1 } })).toEqual({
      type: "candidate",
      candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
    });
    expect(parsePeerSignal({ type: "candidate", candidate: { candidate: "", sdpMid: "0" } })).toEqual({ type: "candidate", candidate: { candidate: "", sdpMid: "0", sdpMLineIndex: null } });
    expect(parsePeerSignal({ type: "renegotiate", renegotiate: true })).toEqual({ type: "renegotiate", renegotiate: true });
    for (const bad of [
      null,
      "offer",
      [],
      { type: "offer" },
      { type: "offer", sdp: "" },
      { type: "offer", sdp: "x".repeat(16385) },
      { type: "pranswer", sdp: "v=0" },
      { type: "candidate", candidate: { candidate: "c", sdpMid: null, sdpMLineIndex: null } },
      { type: "candidate", candidate: { candidate: "c", sdpMLineIndex: -1 } },
      { type: "candidate", candidate: { candidate: "c", sdpMLineIndex: 0.5 } },
      { type: "candidate", candidate: { candidate: "c", sdpMid: 3 } },
      { type: "candidate", candidate: "c" },
      { type: "renegotiate", renegotiate: "yes" },
      { transceiverRequest: { kind: "audio" } },
    ]) {
      expect(parsePeerSignal(bad)).toBeUndefined();
    }
  });

  it("reads the RTT of the selected candidate pair from stats", () => {
    const pair = (id: string, fields: Record<string, unknown>) => ({ id, type: "candidate-pair", ...fields });
    expect(rttFromStats([{ id: "T", type: "transport", selectedCandidatePairId: "P2" }, pair("P1", { currentRoundTripTime: 0.5 }), pair("P2", { currentRoundTripTime: 0.012 })])).toBeCloseTo(12);
    expect(rttFromStats([pair("P1", { nominated: true, state: "waiting", currentRoundTripTime: 0.5 }), pair("P2", { nominated: true, state: "succeeded", currentRoundTripTime: 0.02 })])).toBeCloseTo(20);
    expect(rttFromStats([pair("P1", { selected: true, totalRoundTripTime: 0.09, responsesReceived: 3 })])).toBeCloseTo(30);
    expect(rttFromStats([pair("P1", { nominated: true, state: "succeeded" })])).toBeUndefined();
    expect(rttFromStats([pair("P1", { currentRoundTripTime: 0.01 })])).toBeUndefined();
    expect(rttFromStats([])).toBeUndefined();
  });

  it("no RTCPeerConnection: an asynchronous ERR_WEBRTC_SUPPORT, nothing thrown", async () => {
    const [handle, events] = recordedPeer({ initiator: true, reliable: false, wrtc: undefined, iceServers: [] });
    expect(events.ended.items).toEqual([]); // never synchronously inside createPeer
    expect(await events.ended.waitFor(() => true)).toBe("error:ERR_WEBRTC_SUPPORT");
    expect(handle.closed).toBe(true);
    expect(handle.send(Uint8Array.of(1))).toBe(false);
    expect(await handle.getRtt()).toBeUndefined();
    expect(handle.channelInfo()).toBeUndefined();
    expect(() => handle.signal({ type: "answer", sdp: "v=0" })).not.toThrow();
    expect(() => handle.destroy()).not.toThrow();
  });

  it("an RTCPeerConnection that throws on construction ends in onError, not an exception", async () => {
    class ThrowingPeerConnection {
      constructor() {
        throw new Error("no");
      }
    }
    const fake = { RTCPeerConnection: ThrowingPeerConnection, RTCSessionDescription: class {}, RTCIceCandidate: class {} };
    const [handle, events] = recordedPeer({ initiator: true, reliable: true, wrtc: fake, iceServers: Promise.reject(new Error("no ICE servers")) });
    expect(await events.ended.waitFor(() => true)).toBe("error:ERR_PC_CONSTRUCTOR");
    expect(events.ended.items).toHaveLength(1);
    expect(events.signals).toEqual([]);
    expect(events.opened.items).toEqual([]);
    expect(handle.send(Uint8Array.of(1))).toBe(false);
  });

  it(
    "connects two handles: plain Uint8Array data, channel config, remote close reported as onClose, silence after destroy",
    async () => {
      const handles: { a?: PeerHandle; b?: PeerHandle } = {};
      const [a, eventsA] = recordedPeer({ initiator: true, reliable: false, wrtc, iceServers: [] }, (signal) => setImmediate(() => handles.b?.signal(signal)));
      const [b, eventsB] = recordedPeer({ initiator: false, reliable: false, wrtc, iceServers: Promise.resolve([]) }, (signal) => setImmediate(() => handles.a?.signal(signal)));
      handles.a = a;
      handles.b = b;
      // Destroyed at once: must stay silent for good.
      const [silent, silentEvents] = recordedPeer({ initiator: true, reliable: false, wrtc, iceServers: [] });
      silent.destroy();
      expect(silent.closed).toBe(true);

      expect(a.send(Uint8Array.of(1))).toBe(false); // not open yet
      await Promise.all([eventsA.opened.waitFor(() => true), eventsB.opened.waitFor(() => true)]);
      expect(a.open && b.open).toBe(true);
      expect(a.channelInfo()).toMatchObject({ ordered: false, maxRetransmits: 0, readyState: "open" });
      expect(b.channelInfo()).toMatchObject({ ordered: false, maxRetransmits: 0 });
      expect(eventsA.signals[0]?.type).toBe("offer");
      expect(eventsB.signals.some((signal) => signal.type === "answer")).toBe(true);

      // Unreliable: resend until one arrives.
      const arrived = eventsB.data.waitFor(() => true);
      const timer = setInterval(() => a.send(Uint8Array.of(9, 8, 7)), 100);
      expect(a.send(Uint8Array.of(9, 8, 7))).toBe(true);
      const bytes = await arrived.finally(() => clearInterval(timer));
      expect(bytes.constructor).toBe(Uint8Array);
      expect(Array.from(bytes)).toEqual([9, 8, 7]);
      expect(typeof (await a.getRtt())).toBe("number");

      // B goes away: A hears about it from the channel itself.
      const endedA = eventsA.ended.waitFor(() => true);
      b.destroy();
      expect(await endedA).toBe("close");
      expect(a.open).toBe(false);
      expect(a.send(Uint8Array.of(1))).toBe(false);
      expect(eventsB.ended.items).toEqual([]); // destroyed locally: silent
      expect(silentEvents.signals.length + silentEvents.opened.items.length + silentEvents.data.items.length + silentEvents.ended.items.length).toBe(0);
      a.destroy();
    },
    WEBRTC_TIMEOUT,
  );
});
