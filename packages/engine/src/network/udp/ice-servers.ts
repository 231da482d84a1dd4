/**
 * The ICE server list the peer links use (PROTOCOL.md §9): network_config_ice_servers when the
 * script set one, else the signaling server's (ICE_SERVERS_REQUEST → ICE_SERVERS), asked for once
 * per connection and again before its TURN credentials expire (turn-expiry.ts). Also what reads
 * a list given as JSON, for network_set_config and the server's answer alike.
 */
import { Channel, IceServers, IceServersRequest, SignalType } from "@gmnet/protocol";
import type { Clock } from "../../runtime/clock.js";
import type { SignalingClient } from "../signaling/signaling-client.js";
import type { IceServer } from "./signal-port.js";
import { credentialRefreshAt } from "./turn-expiry.js";

export class IceServerSource {
  private iceServersPromise: Promise<IceServer[]> | undefined;
  /** clock.now() from which the cached list counts as stale (TURN credentials about to expire). */
  private iceServersStaleAt: number | undefined;
  private iceRequests = new Map<number, (servers: IceServer[]) => void>();
  private nextIceRequest = 0;

  constructor(
    private readonly signaling: SignalingClient,
    private readonly clock: Clock,
    /** The list the script set (network_config_ice_servers), undefined for the server's. */
    private readonly configured: () => IceServer[] | undefined,
  ) {
    signaling.on(Channel.SIGNAL, SignalType.ICE_SERVERS, (payload) => {
      const { reqId, json } = IceServers.decode(payload);
      const done = this.iceRequests.get(reqId);
      this.iceRequests.delete(reqId);
      done?.(parseIceServers(json) ?? []);
    });
  }

  /** A new connection: the next call asks the server again. */
  connectionOpened(): void {
    this.iceServersPromise = undefined;
  }

  /** The connection ended: requests under way get no servers. */
  connectionClosed(): void {
    for (const done of this.iceRequests.values()) done([]);
    this.iceRequests.clear();
  }

  iceServers(): Promise<IceServer[]> {
    const configured = this.configured();
    if (configured !== undefined) return Promise.resolve(configured);
    const clock = this.clock;
    if (this.iceServersStaleAt !== undefined && clock.now() >= this.iceServersStaleAt) this.iceServersPromise = undefined;
    if (this.iceServersPromise === undefined) {
      this.iceServersStaleAt = undefined;
      const promise: Promise<IceServer[]> = new Promise((resolve) => {
        const reqId = (this.nextIceRequest = (this.nextIceRequest + 1) >>> 0);
        this.iceRequests.set(reqId, resolve);
        if (!this.signaling.send(Channel.SIGNAL, SignalType.ICE_SERVERS_REQUEST, IceServersRequest.encode({ reqId }), 1)) {
          this.iceRequests.delete(reqId);
          resolve([]);
        }
      });
      this.iceServersPromise = promise;
      void promise.then((servers) => {
        // Still the cached list (not replaced by a reconnect meanwhile)? Then forget it before its
        // TURN credentials expire, so the next call asks the server again. The expiry is Unix wall
        // time but the engine's Clock only has a monotonic now() (performance.now()), so the
        // distance to it is measured with Date.now() and turned into a clock.now() deadline. Checked
        // on the next call rather than by a timer, which would keep a Node process alive for an hour.
        const wallNow = Date.now();
        const refreshAt = credentialRefreshAt(servers, wallNow);
        if (refreshAt !== undefined && this.iceServersPromise === promise) this.iceServersStaleAt = clock.now() + (refreshAt - wallNow);
      });
    }
    return this.iceServersPromise;
  }
}

/** An RTCIceServer[] from JSON text, or undefined when it is not one. */
export function parseIceServers(json: string): IceServer[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return isIceServerList(value) ? value : undefined;
}

export function isIceServerList(value: unknown): value is IceServer[] {
  return (
    Array.isArray(value) &&
    value.every((entry) => {
      if (typeof entry !== "object" || entry === null) return false;
      const { urls, username, credential } = entry as Record<string, unknown>;
      const urlsOk = typeof urls === "string" || (Array.isArray(urls) && urls.every((url) => typeof url === "string"));
      return urlsOk && (username === undefined || typeof username === "string") && (credential === undefined || typeof credential === "string");
    })
  );
}
