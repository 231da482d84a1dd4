/**
 * Turning every kind of failure into a message a player can read: thrown GmnetErrors (misuse),
 * failed master_* responses, and network events that carry an `error` code. The page shows these
 * (ui.ts); nothing here writes to the console.
 */
import {
  type AsyncLoad,
  NetworkError,
  master_op_login_guest,
  master_op_room_create,
  master_op_room_join,
  master_op_room_leave,
  master_op_room_list,
} from "@gmnet/engine";
import { describeError } from "../shared/describe-error.js";
import { ProtocolError } from "./protocol.js";

export type Level = "info" | "warn" | "error";

/**
 * What makes a message obsolete: being connected to the signaling server again ("online"), or
 * being in a game again ("in-game", which also means online). A banner about a lost connection
 * that stays up after the game has recovered only misleads.
 */
export type Recovery = "online" | "in-game";

/** What the page shows: a short code (the engine's or the server's), and a sentence. */
export interface Message {
  readonly level: Level;
  readonly code: string;
  readonly text: string;
  /** Taken off the page once this recovery happens; without it, the message stays until dismissed. */
  readonly until?: Recovery;
}

/** Anything thrown: GmnetError and DemoError keep their codes; our own protocol errors and the rest get a name. */
export function describeThrown(error: unknown, doing: string): Message {
  if (error instanceof ProtocolError) return { level: "error", code: "E_DEMO_PROTOCOL", text: `${doing}: ${error.message}` };
  const { code, message } = describeError(error);
  return { level: "error", code, text: `${doing}: ${message}` };
}

const OPERATIONS: Record<number, string> = {
  [master_op_login_guest]: "Guest login",
  [master_op_room_list]: "Listing rooms",
  [master_op_room_create]: "Creating the room",
  [master_op_room_join]: "Joining the room",
  [master_op_room_leave]: "Leaving the room",
};

/** A master_type_response that did not succeed: e.g. `room_full` — "Joining the room failed: the room has 8 of 8 players". */
export function describeMasterFailure(load: AsyncLoad, level: Level = "error"): Message {
  const operation = OPERATIONS[Number(load.op)] ?? `Master request ${String(load.op)}`;
  const detail = String(load.message ?? "") || "no reason given";
  return { level, code: String(load.error ?? "") || `status ${String(load.status)}`, text: `${operation} failed: ${detail}` };
}

const NETWORK_REASONS: Record<string, string> = {
  [NetworkError.OFFLINE]: "nobody holds that virtual IP any more",
  [NetworkError.NOT_LISTENING]: "the host is online but its game server is not listening",
  [NetworkError.REFUSED]: "the host's server is full",
  [NetworkError.TIMEOUT]: "no answer in time",
  [NetworkError.GONE]: "the host went away while connecting",
  [NetworkError.CLOSED]: "the other side closed the connection",
  [NetworkError.PEER_GONE]: "the other tab closed or lost its connection",
  [NetworkError.SHUTDOWN]: "the signaling server shut down",
  [NetworkError.SIGNALING]: "the signaling server cannot be reached",
  [NetworkError.ADDRESS_CHANGED]: "this tab moved to another virtual IP",
};

/** A network event with an `error` code (failed connect, disconnect, signaling down). */
export function describeNetworkFault(load: AsyncLoad, what: string, level: Level = "error"): Message {
  const code = String(load.error ?? "") || "E_NETWORK";
  const reason = NETWORK_REASONS[code] ?? (String(load.message ?? "") || "unknown reason");
  return { level, code, text: `${what}: ${reason}` };
}


/** A failure of the demo's own making, with a code in the engine's style. */
export class DemoError extends Error {
  override readonly name = "DemoError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
