/**
 * What the UDP peer links need from the signaling connection: a way to exchange WebRTC signal
 * messages with another virtual IP (Channel.SIGNAL RELAY) and the ICE server list. The engine's
 * signaling client implements it; tests wire two of them back to back.
 */

/** The WebRTC classes simple-peer uses; the browser's globals, or `@roamhq/wrtc` in Node. */
export interface WebRtcImplementation {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface SignalPort {
  /** This engine's virtual IP (u32). */
  localIp(): number;
  /** Sends RELAY {peerIp, pairId, kind, data}; `kind` is a SignalKind value, `data` JSON text. Returns false when the signaling connection is down. */
  sendSignal(peerIp: number, pairId: number, kind: number, data: string): boolean;
  /** Set by the peer links: called for every RELAY received; `peerIp` was stamped by the server, so it can be trusted. */
  onSignal: ((peerIp: number, pairId: number, kind: number, data: string) => void) | undefined;
  /** The ICE servers to use (fetched from the signaling server once per connection). */
  iceServers(): Promise<IceServer[]>;
}
