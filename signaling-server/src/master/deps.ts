/** The one dependency object every master service receives (built in master-service.ts). */
import type { MasterEvent } from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Session } from "../session/session.js";
import type { OnlineAccounts } from "./online.js";
import type { Body } from "./outcome.js";

export interface MasterDeps {
  readonly server: ServerContext;
  readonly online: OnlineAccounts;
  sendEvent(session: Session, event: MasterEvent, body: Body): void;
  /** Unix time in ms (the server clock's wallNow, else Date.now): token expiry, chat timestamps. */
  wallNow(): number;
}
