/**
 * Minimal types for `@thaunknown/simple-peer/lite.js` (9.12.x ships none): only what
 * peer-adapter.ts uses. The module's default export is the Peer class, a streamx Duplex.
 * Members starting with `_` are simple-peer internals, read (never written) by the adapter to
 * inspect the DataChannel (peer-adapter.ts says why; the version is pinned for it).
 */
declare module "@thaunknown/simple-peer/lite.js" {
  interface SimplePeerOptions {
    initiator?: boolean;
    /** `{ RTCPeerConnection, RTCSessionDescription, RTCIceCandidate }`; the browser's globals when absent. */
    wrtc?: object;
    trickle?: boolean;
    config?: { iceServers?: { urls: string | string[]; username?: string; credential?: string }[] };
    channelConfig?: { ordered?: boolean; maxRetransmits?: number };
  }

  interface SimplePeerChannel {
    readonly label: string;
    readonly ordered: boolean;
    readonly maxRetransmits: number | null;
    readonly maxPacketLifeTime: number | null;
    readonly readyState: string;
    readonly bufferedAmount: number;
  }

  /** A stats report, flattened (`id`, `type` and the report's own fields). */
  type SimplePeerStatsReport = Record<string, unknown>;

  class SimplePeer {
    constructor(options?: SimplePeerOptions);
    readonly connected: boolean;
    /** The DataChannel's bufferedAmount (0 before there is one). */
    readonly bufferSize: number;
    readonly destroyed: boolean;
    readonly _channel: SimplePeerChannel | null;
    signal(data: object): void;
    send(chunk: Uint8Array): void;
    destroy(error?: Error): void;
    getStats(callback: (error: unknown, reports: SimplePeerStatsReport[]) => void): void;
    on(event: "signal", listener: (data: unknown) => void): this;
    on(event: "data", listener: (chunk: unknown) => void): this;
    on(event: "error", listener: (error: unknown) => void): this;
    on(event: "connect" | "close" | "end", listener: () => void): this;
  }

  export default SimplePeer;
}
