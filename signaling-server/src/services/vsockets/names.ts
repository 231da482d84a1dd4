/**
 * RESOLVE_REQUEST and HOSTNAME_CLAIM: turning "10.1.2.3" or "lobby" into a virtual IP, within
 * the asker's app key only (the Directory keeps app keys apart).
 */
import { Channel, HostnameClaim, HostnameResult, Priority, ProtocolError, ResolveRequest, ResolveResponse, VSocketType, parseIpv4 } from "@gmnet/protocol";
import type { ClusterLink } from "../../cluster/cluster.js";
import type { ServerContext } from "../../server-context.js";
import type { Session } from "../../session/session.js";

/** A DNS-label-like name; at most 63 characters so it always fits MAX_NAME_BYTES. */
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/;

/** What a session's claim needs when it ends (the Directory forgets names by itself). */
export interface Names {
  onSessionClose(session: Session): void;
}

/**
 * `cluster` (--redis): claims are shared by the nodes (a name held by a live session on another
 * node is taken), and RESOLVE asks Redis for names and addresses this node does not hold.
 */
export function registerNameHandlers(context: ServerContext, cluster?: ClusterLink): Names {
  const { router, directory } = context;
  /** session → its claim in Redis (--redis only). */
  const claimed = new Map<Session, { appKey: string; name: string; ip: number }>();
  /** session → its claim being decided, so the answers keep the order of the claims. */
  const claiming = new Map<Session, Promise<void>>();

  const release = (session: Session): void => {
    const claim = claimed.get(session);
    if (claim === undefined) return;
    claimed.delete(session);
    cluster?.releaseName(claim.appKey, claim.name, session.id, claim.ip);
  };

  /** A claim through Redis: refused when a session of this node or a live one elsewhere holds the name. */
  const claimShared = async (link: ClusterLink, session: Session, name: string): Promise<boolean> => {
    const { appKey, virtualIp, id } = session;
    const local = directory.resolve(appKey, name);
    if (local !== undefined && local !== virtualIp) return false;
    if (!(await link.claimName(appKey, name, id, virtualIp))) return false;
    // The session left or moved meanwhile: the claim is nobody's.
    if (session.closed || session.virtualIp !== virtualIp) {
      link.releaseName(appKey, name, id, virtualIp);
      return false;
    }
    if (!directory.claim(session, name)) return false;
    const previous = claimed.get(session);
    if (previous !== undefined && previous.name !== name) link.releaseName(previous.appKey, previous.name, id, previous.ip);
    claimed.set(session, { appKey, name, ip: virtualIp });
    // A durable session with a host name resumes only on this node (the name is this node's claim).
    session.pin?.("host name");
    return true;
  };

  router.on(Channel.VSOCKET, VSocketType.RESOLVE_REQUEST, (session, payload) => {
    const { reqId, name } = ResolveRequest.decode(payload);
    const literal = parseIpv4(name);
    // A dotted address is echoed only while a session of this app key holds it, so the answer
    // also means "online", and addresses of other app keys stay invisible.
    const ip = literal !== undefined ? (directory.lookup(session.appKey, literal) ? literal : 0) : (directory.resolve(session.appKey, name) ?? 0);
    const answer = (ip: number): void => {
      if (!session.closed) session.send(Channel.VSOCKET, VSocketType.RESOLVE_RESPONSE, Priority.HIGH, ResolveResponse.encode({ reqId, ip }));
    };
    if (ip !== 0 || cluster === undefined) return answer(ip);
    // Not on this node (--redis): the route table or the shared names may know it.
    const { appKey } = session;
    const lookup = literal !== undefined ? cluster.locate(appKey, literal).then((node) => (node === undefined ? 0 : literal)) : cluster.resolveName(appKey, name.toLowerCase());
    void lookup.then((found) => answer(found ?? 0));
  });

  router.on(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM, (session, payload) => {
    const { reqId, name } = HostnameClaim.decode(payload);
    // An invalid name is answered with ERROR MALFORMED_PAYLOAD (refId = reqId), not ok=false:
    // a name longer than 64 bytes already fails the codec that way, and ok=false keeps exactly
    // one meaning, "another session holds this name", which a client may react to by retrying
    // with another name. A name shaped like an IPv4 address is refused too, because RESOLVE
    // reads such names as addresses and the claim could never be found.
    if (!HOSTNAME.test(name) || parseIpv4(name) !== undefined) {
      return session.sendError(
        ProtocolError.MALFORMED_PAYLOAD,
        Channel.VSOCKET,
        VSocketType.HOSTNAME_CLAIM,
        reqId,
        "a host name is 1–63 characters of A–Z a–z 0–9 . -, starting with a letter or digit, and not an IPv4 address",
      );
    }
    const answer = (ok: boolean): void => {
      if (!session.closed) session.send(Channel.VSOCKET, VSocketType.HOSTNAME_RESULT, Priority.HIGH, HostnameResult.encode({ reqId, ok }));
    };
    if (cluster === undefined) return answer(directory.claim(session, name));
    const before = claiming.get(session) ?? Promise.resolve();
    const decided = before.then(() => claimShared(cluster, session, name.toLowerCase())).then(answer, () => answer(false));
    claiming.set(session, decided);
    void decided.then(() => {
      if (claiming.get(session) === decided) claiming.delete(session);
    });
  });

  return {
    onSessionClose: release,
  };
}
