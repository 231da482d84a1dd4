/** MASTER EVENT frames: what the server tells a client without being asked (PROTOCOL.md §16). */
import { Channel, type MasterEvent, MasterEventMessage, MasterType, Priority } from "@gmnet/protocol";
import type { Session } from "../session/session.js";
import type { Body } from "./outcome.js";

const utf8 = new TextEncoder();

export function encodeJson(body: Body): Uint8Array {
  return utf8.encode(JSON.stringify(body));
}

/** Sends one event; does nothing on a closed session. */
export function sendEvent(session: Session, event: MasterEvent, body: Body): void {
  session.send(Channel.MASTER, MasterType.EVENT, Priority.NORMAL, MasterEventMessage.encode({ event, body: encodeJson(body) }));
}
