/**
 * What this engine knows of its master session: the login (and its token), the room it is in,
 * the party it is in and the account's selected character, for master_logged_in,
 * master_get_room and the other getters. It is kept from the answers and events the server sends
 * (PROTOCOL.md §16), mirroring what the server holds for this connection, so the getters are
 * right inside the handler of the event that changed them.
 */
import { MasterEvent, MasterOp, MasterStatus } from "@gmnet/protocol";
import { isPlainObject } from "./load.js";

export interface MasterLogin {
  readonly accountId: number;
  readonly username: string;
  readonly guest: boolean;
  readonly token: string;
  /** The account's virtual IP, dotted. */
  readonly ip: string;
}

/** The account's selected character; id 0 and name "" for none. */
export interface MasterCharacter {
  readonly id: number;
  readonly name: string;
}

const NO_CHARACTER: MasterCharacter = { id: 0, name: "" };

/** Operations whose success body is a Session that logs this connection in. */
const SESSION_OPS = new Set<number>([MasterOp.LOGIN, MasterOp.LOGIN_GUEST, MasterOp.RESUME, MasterOp.REFRESH]);

export class MasterState {
  login: MasterLogin | undefined;
  /** The room this connection hosts or joined, 0 for none. */
  room = 0;
  /** The party this connection is in, 0 for none. */
  party = 0;
  /**
   * The login's selected character: from the Session, CHARACTER_SELECT, CHARACTER_DELETE and
   * CHARACTER_LIST answers, and PRESENCE events about this account. It is the account's on the
   * server, so it survives a lost connection; a change made over HTTP shows with the next of these.
   */
  character: MasterCharacter = NO_CHARACTER;

  /** `tokenChanged` hears every change of the token ("" when the login ends): it goes into the next HELLO. */
  constructor(private readonly tokenChanged: (token: string) => void) {}

  /** A RESPONSE to `op`, with its parsed body. */
  response(op: number, status: number, body: unknown): void {
    const fields = isPlainObject(body) ? body : {};
    if (status !== MasterStatus.SUCCESS) {
      // The server says we are not where we thought: follow it.
      if (op === MasterOp.ROOM_LEAVE && fields.error === "not_in_room") this.room = 0;
      if (op === MasterOp.PARTY_LEAVE && fields.error === "not_in_party") this.party = 0;
      // A LOGOUT answered after a login that was still on its way ends that login too.
      if (op === MasterOp.LOGOUT) this.loggedOut();
      return;
    }
    if (SESSION_OPS.has(op)) return this.loggedIn(fields);
    switch (op) {
      case MasterOp.LOGOUT:
        return this.loggedOut();
      case MasterOp.ROOM_CREATE:
      case MasterOp.ROOM_JOIN:
        this.room = idOf(fields.roomId);
        return;
      case MasterOp.ROOM_LEAVE:
        this.room = 0;
        return;
      case MasterOp.PARTY_CREATE:
      case MasterOp.PARTY_ACCEPT:
        this.party = idOf(fields.partyId);
        return;
      case MasterOp.PARTY_LEAVE:
        this.party = 0;
        return;
      case MasterOp.CHARACTER_SELECT:
        this.character = characterOf(fields.characterId, fields.name);
        return;
      case MasterOp.CHARACTER_DELETE:
        if (idOf(fields.characterId) === this.character.id) this.character = NO_CHARACTER;
        return;
      case MasterOp.CHARACTER_LIST: {
        const characters = Array.isArray(fields.characters) ? (fields.characters as unknown[]) : [];
        const selected = characters.find((character) => isPlainObject(character) && character.selected === true);
        this.character = isPlainObject(selected) ? characterOf(selected.characterId, selected.name) : NO_CHARACTER;
        return;
      }
    }
  }

  /** An EVENT, with its parsed body. */
  event(event: number, body: unknown): void {
    const fields = isPlainObject(body) ? body : {};
    switch (event) {
      case MasterEvent.SESSION:
        // "resumed" carries the Session; "rejected" and "ended" end the login on this connection.
        if (fields.state === "resumed") this.loggedIn(fields);
        else if (fields.state === "rejected" || fields.state === "ended") this.loggedOut();
        return;
      case MasterEvent.ROOM_CLOSED:
        if (idOf(fields.roomId) === this.room) this.room = 0;
        return;
      case MasterEvent.ROOM_UPDATE:
        if (this.isMe(fields.username)) {
          if (fields.reason === "left" && idOf(fields.roomId) === this.room) this.room = 0;
          else if (fields.reason === "joined") this.room = idOf(fields.roomId);
        }
        return;
      case MasterEvent.PRESENCE:
        // Our own account (seen when subscribed): its selection may have changed over HTTP.
        if (this.login !== undefined && idOf(fields.accountId) === this.login.accountId && fields.online === true) {
          this.character = characterOf(fields.characterId, fields.character);
        }
        return;
      case MasterEvent.PARTY_UPDATE: {
        // Members get every update, the one who joined or left included: the member list says where we stand.
        const members = Array.isArray(fields.members) ? fields.members : [];
        const partyId = idOf(fields.partyId);
        if (members.some((member) => this.isMe(member))) this.party = partyId;
        else if (partyId === this.party) this.party = 0;
        return;
      }
    }
  }

  /** master_logout: the login ends here at once, whatever the server answers. */
  loggedOut(): void {
    this.room = 0;
    this.party = 0;
    this.character = NO_CHARACTER;
    if (this.login === undefined) return;
    this.login = undefined;
    this.tokenChanged("");
  }

  /**
   * The signaling connection ended: the server left our room and party with it (PROTOCOL.md
   * §16.4, §16.6). The login is kept: the next connection resumes it with the token.
   */
  connectionLost(): void {
    this.room = 0;
    this.party = 0;
  }

  private loggedIn(session: Record<string, unknown>): void {
    const { accountId, username, guest, token, ip } = session;
    if (typeof token !== "string" || token === "" || typeof username !== "string") return;
    const login: MasterLogin = { accountId: idOf(accountId), username, guest: guest === true, token, ip: typeof ip === "string" ? ip : "" };
    // Another account: the server ended the old login, and with it its room and party.
    if (this.login !== undefined && this.login.accountId !== login.accountId) this.connectionLost();
    this.login = login;
    this.character = characterOf(session.characterId, session.character);
    this.tokenChanged(token);
  }

  private isMe(name: unknown): boolean {
    return this.login !== undefined && typeof name === "string" && name.toLowerCase() === this.login.username.toLowerCase();
  }
}

/** A selected character from a body's id and name; none for an id that is not one. */
function characterOf(id: unknown, name: unknown): MasterCharacter {
  const characterId = idOf(id);
  return characterId === 0 ? NO_CHARACTER : { id: characterId, name: typeof name === "string" ? name : "" };
}

/** A room, party or account id from a body; 0 for anything else. */
function idOf(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : 0;
}
