/**
 * The parties of every app key, in memory (PROTOCOL.md §16.6). Pure bookkeeping: members in
 * the order they joined (the first one leads, so leadership passes to the longest-standing
 * member), pending invites per (party, invitee), and the rules of inviting, accepting,
 * declining and leaving. It sends nothing; the party service turns its results into events.
 *
 * `M` is whatever stands for a logged-in member (the live Session in the server, anything in
 * tests). Memberships and invites are per login: the service calls `forget` when one ends.
 */
import { randomId } from "../rooms/ids.js";
import { MasterFailure } from "../outcome.js";

export interface Party<M> {
  readonly id: number;
  readonly appKey: string;
  /** Member → user name, in joining order: the first one is the leader. */
  readonly members: Map<M, string>;
  /** Invitee → the user name of who invited it, oldest first. */
  readonly invites: Map<M, string>;
}

/** A party as clients see it (PROTOCOL.md §16.6 "Party"): members by user name, leader first. */
export type PartyView = {
  readonly partyId: number;
  /** "" once the last member left. */
  readonly leader: string;
  readonly members: string[];
};

export interface PartyLeave<M> {
  readonly party: Party<M>;
  /** The last member left: the party and its invites are gone. */
  readonly ended: boolean;
}

export interface PartyRegistryOptions {
  /** Uniform in [0, 1), for party ids. */
  readonly random: () => number;
  readonly maxPartySize: number;
  /** Pending invites one party may have at once. */
  readonly maxPendingInvites: number;
}

export class PartyRegistry<M> {
  private readonly byId = new Map<number, Party<M>>();
  private readonly memberOf = new Map<M, Party<M>>();
  /** Invitee → the parties that invited it. */
  private readonly invitedTo = new Map<M, Set<Party<M>>>();

  constructor(private readonly options: PartyRegistryOptions) {}

  /** Parties across every app key. */
  get size(): number {
    return this.byId.size;
  }

  /** Members in any party. */
  get memberCount(): number {
    return this.memberOf.size;
  }

  /** Invitees with at least one pending invite. */
  get inviteeCount(): number {
    return this.invitedTo.size;
  }

  partyOf(member: M): Party<M> | undefined {
    return this.memberOf.get(member);
  }

  /** The party with this id in this app key; other apps' parties do not exist here. */
  get(appKey: string, partyId: number): Party<M> | undefined {
    const party = this.byId.get(partyId);
    return party !== undefined && party.appKey === appKey ? party : undefined;
  }

  leaderOf(party: Party<M>): M | undefined {
    for (const member of party.members.keys()) return member;
    return undefined;
  }

  create(appKey: string, leader: M, leaderName: string): Party<M> {
    if (this.memberOf.has(leader)) throw new MasterFailure("already_in_party", "you are in a party; leave it first");
    const id = randomId(this.options.random, (candidate) => this.byId.has(candidate));
    const party: Party<M> = { id, appKey, members: new Map([[leader, leaderName]]), invites: new Map() };
    this.byId.set(id, party);
    this.memberOf.set(leader, party);
    return party;
  }

  /**
   * The leader invites `invitee` (found online by the caller). Inviting someone already invited
   * renews the invite. Returns the party.
   */
  invite(leader: M, leaderName: string, invitee: M): Party<M> {
    const party = this.ledBy(leader);
    if (this.memberOf.has(invitee)) throw new MasterFailure("already_in_party", invitee === leader ? "you are in the party already" : "that user is in a party");
    if (party.members.size >= this.options.maxPartySize) throw new MasterFailure("party_full", `the party has ${this.options.maxPartySize} members`);
    if (!party.invites.has(invitee) && party.invites.size >= this.options.maxPendingInvites) {
      throw new MasterFailure("party_full", `the party has ${this.options.maxPendingInvites} invites waiting for an answer`);
    }
    party.invites.delete(invitee);
    party.invites.set(invitee, leaderName);
    let parties = this.invitedTo.get(invitee);
    if (parties === undefined) this.invitedTo.set(invitee, (parties = new Set()));
    parties.add(party);
    return party;
  }

  /** The party `leader` leads; fails with not_in_party or not_leader. */
  ledBy(leader: M): Party<M> {
    const party = this.memberOf.get(leader);
    if (party === undefined) throw new MasterFailure("not_in_party", "you are in no party");
    if (this.leaderOf(party) !== leader) throw new MasterFailure("not_leader", "only the party's leader may invite");
    return party;
  }

  /** `member` accepts its invite to the party and joins it. */
  accept(appKey: string, member: M, memberName: string, partyId: number): Party<M> {
    const party = this.pendingInvite(appKey, member, partyId);
    if (this.memberOf.has(member)) throw new MasterFailure("already_in_party", "you are in a party; leave it first");
    if (party.members.size >= this.options.maxPartySize) throw new MasterFailure("party_full", `the party has ${this.options.maxPartySize} members`);
    this.dropInvite(party, member);
    party.members.set(member, memberName);
    this.memberOf.set(member, party);
    return party;
  }

  /** `member` declines its invite to the party. */
  decline(appKey: string, member: M, partyId: number): Party<M> {
    const party = this.pendingInvite(appKey, member, partyId);
    this.dropInvite(party, member);
    return party;
  }

  /** Takes `member` out of its party; the last one out ends it. Undefined when in none. */
  leave(member: M): PartyLeave<M> | undefined {
    const party = this.memberOf.get(member);
    if (party === undefined) return undefined;
    party.members.delete(member);
    this.memberOf.delete(member);
    if (party.members.size > 0) return { party, ended: false };
    for (const invitee of [...party.invites.keys()]) this.dropInvite(party, invitee);
    this.byId.delete(party.id);
    return { party, ended: true };
  }

  /** A login ended: its pending invites go (its membership is `leave`'s job). */
  forgetInvites(invitee: M): void {
    for (const party of this.invitedTo.get(invitee) ?? []) party.invites.delete(invitee);
    this.invitedTo.delete(invitee);
  }

  view(party: Party<M>): PartyView {
    const members = [...party.members.values()];
    return { partyId: party.id, leader: members[0] ?? "", members };
  }

  private pendingInvite(appKey: string, member: M, partyId: number): Party<M> {
    const party = this.get(appKey, partyId);
    if (party === undefined) throw new MasterFailure("party_not_found", `no party ${partyId}`);
    if (!party.invites.has(member)) throw new MasterFailure("invite_not_found", `you have no invite to party ${partyId}`);
    return party;
  }

  private dropInvite(party: Party<M>, invitee: M): void {
    party.invites.delete(invitee);
    const parties = this.invitedTo.get(invitee);
    parties?.delete(party);
    if (parties?.size === 0) this.invitedTo.delete(invitee);
  }
}
