/**
 * The master services over the WebSocket's MASTER channel: REQUEST frames in, one RESPONSE per
 * request out (in completion order), at most masterMaxInFlight unanswered per connection.
 */
import { Channel, MasterOp, MasterRequest, MasterResponse, MasterType, Priority, ProtocolError } from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Session } from "../session/session.js";
import type { Dispatch } from "./dispatcher.js";
import { encodeJson } from "./events.js";
import type { OnlineAccounts } from "./online.js";
import { type Outcome, fail } from "./outcome.js";

/** Operations that may move the session to another address (online.ts): later frames wait for them. */
const MOVES_THE_SESSION: ReadonlySet<number> = new Set([MasterOp.LOGIN, MasterOp.LOGIN_GUEST, MasterOp.RESUME, MasterOp.LOGOUT]);

/** reqId u32 + op u16: without them there is nobody to answer. */
const REQUEST_HEADER_BYTES = 6;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface MasterChannel {
  onSessionClose(session: Session): void;
}

export function registerMasterChannel(context: ServerContext, dispatch: Dispatch, online: OnlineAccounts): MasterChannel {
  const { config, router } = context;
  const inFlight = new Map<Session, number>();

  router.on(Channel.MASTER, MasterType.REQUEST, (session, payload) => {
    if (payload.length < REQUEST_HEADER_BYTES) {
      return session.sendError(ProtocolError.MALFORMED_PAYLOAD, Channel.MASTER, MasterType.REQUEST, 0, `a master request needs at least ${REQUEST_HEADER_BYTES} bytes (reqId, op)`);
    }
    const { reqId, op, body } = MasterRequest.decode(payload);
    const respond = (outcome: Outcome): void => {
      session.send(Channel.MASTER, MasterType.RESPONSE, Priority.HIGH, MasterResponse.encode({ reqId, op, status: outcome.status, body: encodeJson(outcome.body) }));
    };
    if (body.length > config.masterMaxBodyBytes) return respond(fail("invalid_body", `the body has ${body.length} bytes; the limit is ${config.masterMaxBodyBytes}`));
    const pending = inFlight.get(session) ?? 0;
    if (pending >= config.masterMaxInFlight) return respond(fail("busy", `at most ${config.masterMaxInFlight} master requests may wait for an answer`));
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? {} : JSON.parse(utf8.decode(body));
    } catch {
      return respond(fail("invalid_body", "the body is not JSON text in UTF-8"));
    }
    inFlight.set(session, pending + 1);
    const caller = { via: "ws", appKey: session.appKey, address: session.remoteAddress, session, login: online.loginOf(session) } as const;
    const answered = dispatch(caller, op, parsed);
    // What the client sends after a login must be handled from the address the login moves it to.
    if (MOVES_THE_SESSION.has(op)) session.holdFramesUntil?.(answered);
    void answered.then((outcome) => {
      const left = (inFlight.get(session) ?? 1) - 1;
      if (left > 0) inFlight.set(session, left);
      else inFlight.delete(session);
      respond(outcome);
    });
  });

  return {
    onSessionClose(session) {
      inFlight.delete(session);
    },
  };
}
