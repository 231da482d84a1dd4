/**
 * How the two engines of a peer link talk through the signaling server (PeerLinks, peer-links.ts,
 * sends and reads these; the server relays them untouched, PROTOCOL.md SIGNAL RELAY).
 *
 * PairIds. Each link is named by a `pairId` (u32, never 0) chosen by the initiator. Bit 31 of a
 * pairId says which side chose it: set when the initiator has the lower virtual IP of the two.
 * So the pairIds either engine picks can never collide, and an OFFER whose bit 31 does not match
 * its sender is ignored. The low 31 bits come from a per-engine counter (random start), so
 * pairIds are unique per engine.
 *
 * Signals. Each piece of simple-peer signal data travels as one SIGNAL RELAY
 * `signal.sendSignal(peerIp, pairId, kind, json)` with
 *
 *   json = JSON.stringify({ reliable: boolean, signal: PeerSignal })
 *
 * where `reliable` tells the answering side which kind of link to create (and must match the link
 * on every later signal) and `signal` is simple-peer's data, kind by its type:
 *   OFFER (1) {type:"offer",sdp}   ANSWER (2) {type:"answer",sdp}
 *   CANDIDATE (3) {type:"candidate",candidate:{candidate,sdpMLineIndex,sdpMid}}
 *   RENEGOTIATE (4) {type:"renegotiate",renegotiate:true}   (transceiverRequest: media only, never sent, ignored)
 * CLOSE (5) carries "{}" and tells the other side to drop the link `pairId` (it does not look at
 * the data).
 */
import { SignalKind } from "@gmnet/protocol";

/** An ICE candidate as it travels between peers. */
export interface PeerIceCandidate {
  candidate: string;
  sdpMLineIndex: number | null;
  sdpMid: string | null;
}

/** One piece of signal data (simple-peer's format, validated). */
export type PeerSignal =
  | { type: "offer"; sdp: string }
  | { type: "answer"; sdp: string }
  | { type: "candidate"; candidate: PeerIceCandidate }
  | { type: "renegotiate"; renegotiate: true };

/** Longest SDP accepted in signal data (a data-only SDP is about 1 KB; the relay caps a signal at 16 KiB). */
const MAX_SDP_LENGTH = 16384;
const MAX_CANDIDATE_LENGTH = 2048;
const MAX_MID_LENGTH = 256;
/** The relay's limit for a signal's data (SignalRelay.data is str(16384)). */
const MAX_SIGNAL_BYTES = 16384;
/** pairId bit 31: the link's initiator has the lower virtual IP. */
const PAIR_INITIATED_BY_LOWER = 0x80000000;
const PAIR_COUNTER_MASK = 0x7fffffff;

export const KIND_OF_SIGNAL: Record<PeerSignal["type"], number> = {
  offer: SignalKind.OFFER,
  answer: SignalKind.ANSWER,
  candidate: SignalKind.CANDIDATE,
  renegotiate: SignalKind.RENEGOTIATE,
};

const textEncoder = new TextEncoder();

export const isU32 = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;

/** A random start for the pairId counter. */
export function firstPairCounter(): number {
  return Math.floor(Math.random() * PAIR_COUNTER_MASK);
}

export function nextPairCounter(counter: number): number {
  return (counter % PAIR_COUNTER_MASK) + 1;
}

/** The pairId this engine (at localIp) gives a link it starts to peerIp. */
export function makePairId(localIp: number, peerIp: number, counter: number): number {
  return ((localIp < peerIp ? PAIR_INITIATED_BY_LOWER : 0) | counter) >>> 0;
}

/** Bit 31 must say that the sender picked this pairId. */
export function pairIdChosenBySender(pairId: number, senderIsLower: boolean): boolean {
  return ((pairId & PAIR_INITIATED_BY_LOWER) !== 0) === senderIsLower;
}

/** A signal's JSON text, or undefined when it is longer than the relay takes. */
export function encodeEnvelope(reliable: boolean, signal: PeerSignal): string | undefined {
  const text = JSON.stringify({ reliable, signal });
  return textEncoder.encode(text).length > MAX_SIGNAL_BYTES ? undefined : text;
}

/** `{ reliable, signal }` from a signal of `kind` (not CLOSE), or undefined when it is not exactly that. */
export function parseEnvelope(kind: number, text: string): { reliable: boolean; signal: PeerSignal } | undefined {
  if (kind !== SignalKind.OFFER && kind !== SignalKind.ANSWER && kind !== SignalKind.CANDIDATE && kind !== SignalKind.RENEGOTIATE) return undefined;
  if (text.length > MAX_SIGNAL_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { reliable, signal } = value as { reliable?: unknown; signal?: unknown };
  if (typeof reliable !== "boolean") return undefined;
  const parsed = parsePeerSignal(signal);
  return parsed && KIND_OF_SIGNAL[parsed.type] === kind ? { reliable, signal: parsed } : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` as a {@link PeerSignal} (a fresh object with only the known fields), or undefined when it is not one. */
export function parsePeerSignal(value: unknown): PeerSignal | undefined {
  if (!isRecord(value)) return undefined;
  const type = value.type;
  if (type === "offer" || type === "answer") {
    const sdp = value.sdp;
    if (typeof sdp !== "string" || sdp.length === 0 || sdp.length > MAX_SDP_LENGTH) return undefined;
    return { type, sdp };
  }
  if (type === "candidate") {
    const candidate = value.candidate;
    if (!isRecord(candidate)) return undefined;
    const text = candidate.candidate;
    const index = candidate.sdpMLineIndex ?? null;
    const mid = candidate.sdpMid ?? null;
    if (typeof text !== "string" || text.length > MAX_CANDIDATE_LENGTH) return undefined;
    if (index !== null && !(typeof index === "number" && Number.isInteger(index) && index >= 0 && index <= 0xffff)) return undefined;
    if (mid !== null && !(typeof mid === "string" && mid.length <= MAX_MID_LENGTH)) return undefined;
    // RTCIceCandidate throws when both are null.
    if (index === null && mid === null) return undefined;
    return { type, candidate: { candidate: text, sdpMLineIndex: index, sdpMid: mid } };
  }
  if (type === "renegotiate" && value.renegotiate === true) return { type, renegotiate: true };
  // transceiverRequest (media) has no meaning for a data-only link.
  return undefined;
}
