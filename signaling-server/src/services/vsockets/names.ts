/**
 * RESOLVE_REQUEST and HOSTNAME_CLAIM: turning "10.1.2.3" or "lobby" into a virtual IP, within
 * the asker's app key only (the Directory keeps app keys apart).
 */
import { Channel, HostnameClaim, HostnameResult, Priority, ProtocolError, ResolveRequest, ResolveResponse, VSocketType, parseIpv4 } from "@gmnet/engine/protocol";
import type { ServerContext } from "../../server-context.js";

/** A DNS-label-like name; at most 63 characters so it always fits MAX_NAME_BYTES. */
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/;

export function registerNameHandlers(context: ServerContext): void {
  const { router, directory } = context;

  router.on(Channel.VSOCKET, VSocketType.RESOLVE_REQUEST, (session, payload) => {
    const { reqId, name } = ResolveRequest.decode(payload);
    const literal = parseIpv4(name);
    // A dotted address is echoed only while a session of this app key holds it, so the answer
    // also means "online", and addresses of other app keys stay invisible.
    const ip = literal !== undefined ? (directory.lookup(session.appKey, literal) ? literal : 0) : (directory.resolve(session.appKey, name) ?? 0);
    session.send(Channel.VSOCKET, VSocketType.RESOLVE_RESPONSE, Priority.HIGH, ResolveResponse.encode({ reqId, ip }));
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
    const ok = directory.claim(session, name);
    session.send(Channel.VSOCKET, VSocketType.HOSTNAME_RESULT, Priority.HIGH, HostnameResult.encode({ reqId, ok }));
  });
}
