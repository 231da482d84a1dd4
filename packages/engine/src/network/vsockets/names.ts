/**
 * Host names on the virtual host (the server's half: services/vsockets/names.ts): RESOLVE_REQUEST
 * turns a name into a virtual IP (cached once known; dotted quads and "localhost" never ask),
 * and HOSTNAME_CLAIM takes a name for this engine, claimed again after every reconnect or change
 * of address, since the server drops it with the old one. Every request ends exactly once.
 */
import { Channel, HostnameClaim, HostnameResult, ResolveRequest, ResolveResponse, VSocketType, parseIpv4 } from "@gmnet/protocol";
import type { ErrorFrame } from "../signaling/signaling-client.js";
import { type HostContext, LOOPBACK_IP } from "./host-context.js";

/** The request `reqId` waiting in `pending`, taken out so that it ends once; undefined when it has ended already. */
function take<T>(pending: Map<number, T>, reqId: number): T | undefined {
  const request = pending.get(reqId);
  pending.delete(reqId);
  return request;
}

export class Names {
  private readonly resolving = new Map<number, (ip: number) => void>();
  private readonly claims = new Map<number, { name: string; done: (ok: boolean) => void }>();
  private readonly names = new Map<string, number>();
  private ownName: string | undefined;

  constructor(private readonly host: HostContext) {
    host.signaling.on(Channel.VSOCKET, VSocketType.RESOLVE_RESPONSE, (payload) => {
      const { reqId, ip } = ResolveResponse.decode(payload);
      this.finishResolve(reqId, ip);
    });
    host.signaling.on(Channel.VSOCKET, VSocketType.HOSTNAME_RESULT, (payload) => {
      const { reqId, ok } = HostnameResult.decode(payload);
      this.finishClaim(reqId, ok);
    });
  }

  get hostname(): string | undefined {
    return this.ownName;
  }

  /** The cached address of a name, a dotted quad's value, or undefined. */
  cachedAddress(name: string): number | undefined {
    const literal = parseIpv4(name);
    if (literal !== undefined) return literal;
    const key = name.toLowerCase();
    if (key === "localhost") return LOOPBACK_IP;
    if (key === this.ownName) return this.host.localIp() || undefined;
    return this.names.get(key);
  }

  /** Asks the server for a name's address; `done(0)` when unknown or not connected. */
  resolve(name: string, done: (ip: number) => void): void {
    const known = this.cachedAddress(name);
    if (known !== undefined) return queueMicrotask(() => done(known));
    const reqId = this.host.requestId();
    const key = name.toLowerCase();
    this.resolving.set(reqId, (ip) => {
      if (ip !== 0) this.names.set(key, ip);
      done(ip);
    });
    if (!this.host.signaling.send(Channel.VSOCKET, VSocketType.RESOLVE_REQUEST, ResolveRequest.encode({ reqId, name }))) this.finishResolve(reqId, 0);
  }

  private finishResolve(reqId: number, ip: number): void {
    const done = take(this.resolving, reqId);
    if (done !== undefined) queueMicrotask(() => done(ip));
  }

  claimHostname(name: string, done: (ok: boolean) => void): void {
    const reqId = this.host.requestId();
    this.claims.set(reqId, { name: name.toLowerCase(), done });
    if (!this.host.signaling.send(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM, HostnameClaim.encode({ reqId, name }))) this.finishClaim(reqId, false);
  }

  private finishClaim(reqId: number, ok: boolean): void {
    const claim = take(this.claims, reqId);
    if (claim === undefined) return;
    if (ok) this.ownName = claim.name;
    queueMicrotask(() => claim.done(ok));
  }

  /** An ERROR that answers a claim refuses it; true when it was one. */
  onServerError(error: ErrorFrame): boolean {
    if (error.refType !== VSocketType.HOSTNAME_CLAIM) return false;
    this.finishClaim(error.refId, false);
    return true;
  }

  /** After (re)connecting: the server forgot our host name with the old connection. */
  claimAgain(): void {
    const name = this.ownName;
    if (name !== undefined) {
      this.ownName = undefined;
      this.claimHostname(name, () => {});
    }
  }

  /**
   * After a change of address: a claim the server handled before the move was dropped with the
   * old address; one handled after it stands. Which of the two is unknown here, so ask again: a
   * repeated claim of a name this connection holds is answered ok, and only the first answer counts.
   */
  repeatClaims(): void {
    for (const [reqId, claim] of this.claims) this.host.signaling.send(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM, HostnameClaim.encode({ reqId, name: claim.name }));
  }

  /** The connection to the server ended: every lookup and claim under way ends unanswered. */
  endRequests(): void {
    for (const reqId of [...this.resolving.keys()]) this.finishResolve(reqId, 0);
    for (const reqId of [...this.claims.keys()]) this.finishClaim(reqId, false);
  }
}
