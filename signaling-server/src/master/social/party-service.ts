/**
 * Parties (PROTOCOL.md §16.6): PARTY_CREATE, PARTY_INVITE, PARTY_ACCEPT, PARTY_DECLINE and
 * PARTY_LEAVE over the registry, with the events members and invitees hear. Memberships and
 * invites belong to a login: when it ends (LOGOUT, replaced, disconnected) the member leaves and
 * its pending invites go.
 */
import { MasterEvent, MasterOp } from "@gmnet/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import type { MasterDeps } from "../deps.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { fail, ok } from "../outcome.js";
import { MAX_ID } from "../rooms/ids.js";
import { type Party, PartyRegistry } from "./party-registry.js";

export interface PartyService {
  readonly operations: AnyOperation[];
  /** The party the session is in, 0 for none. */
  partyOf(session: Session): number;
  /** Every session in the session's party (itself included), empty when it is in none. */
  membersOf(session: Session): Session[];
}

/** Pending invites one party may have (at least maxPartySize, so a leader can invite a full party). */
export const MAX_PENDING_INVITES = 32;

const partyIdBody = z.strictObject({ partyId: z.number().int().min(1).max(MAX_ID) });

export function createPartyService(deps: MasterDeps): PartyService {
  const { config } = deps.server;
  const registry = new PartyRegistry<Session>({
    random: deps.server.random,
    maxPartySize: config.maxPartySize,
    maxPendingInvites: Math.max(MAX_PENDING_INVITES, config.maxPartySize),
  });

  /** EVENT PARTY_UPDATE to every member, and to `also` (who just left). */
  const announce = (party: Party<Session>, reason: "joined" | "left" | "declined", username: string, also?: Session): void => {
    const body = { ...registry.view(party), reason, username };
    for (const member of party.members.keys()) deps.sendEvent(member, MasterEvent.PARTY_UPDATE, body);
    if (also !== undefined) deps.sendEvent(also, MasterEvent.PARTY_UPDATE, body);
  };

  const leave = (session: Session, username: string): boolean => {
    const result = registry.leave(session);
    if (result === undefined) return false;
    announce(result.party, "left", username, session);
    return true;
  };

  deps.online.listen({
    onLogout(session, login) {
      leave(session, login.username);
      registry.forgetInvites(session);
    },
  });

  const operations = [
    defineOperation({
      op: MasterOp.PARTY_CREATE,
      needs: "connection",
      body: z.strictObject({}),
      run({ caller }) {
        const party = registry.create(caller.session.appKey, caller.session, caller.login.username);
        return ok(registry.view(party));
      },
    }),
    defineOperation({
      op: MasterOp.PARTY_INVITE,
      needs: "connection",
      body: z.strictObject({ username: z.string().min(1).max(64) }),
      run({ caller, body }) {
        const { session, login } = caller;
        registry.ledBy(session);
        const invitee = deps.online.findByName(session.appKey, body.username);
        if (invitee === undefined) return fail("user_not_found", `${body.username} is not online`);
        const party = registry.invite(session, login.username, invitee.session);
        deps.sendEvent(invitee.session, MasterEvent.PARTY_INVITE, { partyId: party.id, from: login.username });
        return ok();
      },
    }),
    defineOperation({
      op: MasterOp.PARTY_ACCEPT,
      needs: "connection",
      body: partyIdBody,
      run({ caller, body }) {
        const { session, login } = caller;
        const party = registry.accept(session.appKey, session, login.username, body.partyId);
        announce(party, "joined", login.username);
        return ok(registry.view(party));
      },
    }),
    defineOperation({
      op: MasterOp.PARTY_DECLINE,
      needs: "connection",
      body: partyIdBody,
      run({ caller, body }) {
        const party = registry.decline(caller.session.appKey, caller.session, body.partyId);
        announce(party, "declined", caller.login.username);
        return ok();
      },
    }),
    defineOperation({
      op: MasterOp.PARTY_LEAVE,
      needs: "connection",
      body: z.strictObject({}),
      run({ caller }) {
        return leave(caller.session, caller.login.username) ? ok() : fail("not_in_party", "you are in no party");
      },
    }),
  ];

  return {
    operations,
    partyOf: (session) => registry.partyOf(session)?.id ?? 0,
    membersOf: (session) => [...(registry.partyOf(session)?.members.keys() ?? [])],
  };
}
