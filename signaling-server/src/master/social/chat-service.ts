/**
 * Chat (PROTOCOL.md §16.5): CHAT_SEND on the global, room, party and whisper channels, each to
 * exactly its recipients, at most `chatRateLimit` messages per connection per 10 s. A message
 * names the sender's selected character (`character`, "" for none) besides the user name.
 */
import { CHAT_CHANNELS, type ChatChannel, MasterEvent, MasterOp } from "@gmnet/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import { RateLimiter } from "../../session/rate-limiter.js";
import type { CharacterService } from "../characters/character-service.js";
import type { MasterDeps } from "../deps.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { fail, ok } from "../outcome.js";
import type { RoomService } from "../rooms/room-service.js";
import type { PartyService } from "./party-service.js";

const RATE_WINDOW_SECONDS = 10;

const sendBody = z
  .strictObject({
    channel: z.enum(CHAT_CHANNELS),
    text: z.string().min(1).max(500),
    to: z.string().min(1).max(64).optional(),
  })
  .superRefine((body, context) => {
    if (body.channel === "whisper" && body.to === undefined) context.addIssue({ code: "custom", path: ["to"], message: "a whisper needs the user name to send it to" });
    if (body.channel !== "whisper" && body.to !== undefined) context.addIssue({ code: "custom", path: ["to"], message: "only whispers take a recipient" });
  });

export function createChatService(deps: MasterDeps, rooms: RoomService, parties: PartyService, characters: Pick<CharacterService, "selectedOf">): { operations: AnyOperation[] } {
  const { chatRateLimit } = deps.server.config;
  // The limit is the connection's (§16.5), so it survives logging out and in again; a WeakMap
  // lets it go with the connection, holding nothing once the session is gone.
  const buckets = new WeakMap<Session, RateLimiter>();

  const allowed = (session: Session): boolean => {
    const now = deps.server.clock.now();
    let bucket = buckets.get(session);
    if (bucket === undefined) buckets.set(session, (bucket = new RateLimiter(chatRateLimit / RATE_WINDOW_SECONDS, chatRateLimit, now)));
    return bucket.take(now);
  };

  const send = defineOperation({
    op: MasterOp.CHAT_SEND,
    needs: "connection",
    body: sendBody,
    run({ caller, body }) {
      const { session, login } = caller;
      const channel: ChatChannel = body.channel;
      let recipients: Iterable<Session>;
      let to = "";
      let roomId = 0;
      let partyId = 0;
      switch (channel) {
        case "global":
          recipients = [...deps.online.logins(session.appKey)].map((entry) => entry.session);
          break;
        case "room":
          roomId = rooms.roomOf(session);
          if (roomId === 0) return fail("not_in_room", "you are in no room");
          recipients = rooms.membersOf(session);
          break;
        case "party":
          partyId = parties.partyOf(session);
          if (partyId === 0) return fail("not_in_party", "you are in no party");
          recipients = parties.membersOf(session);
          break;
        case "whisper": {
          const target = deps.online.findByName(session.appKey, body.to ?? "");
          if (target === undefined) return fail("user_not_found", `${body.to ?? ""} is not online`);
          to = target.login.username;
          recipients = [target.session];
          break;
        }
      }
      if (!allowed(session)) return fail("rate_limited", `at most ${chatRateLimit} chat messages per ${RATE_WINDOW_SECONDS} s`);
      const character = characters.selectedOf(login.accountId)?.name ?? "";
      const message = { channel, from: login.username, fromId: login.accountId, character, text: body.text, to, roomId, partyId, time: deps.wallNow() };
      for (const recipient of recipients) deps.sendEvent(recipient, MasterEvent.CHAT, message);
      return ok();
    },
  });

  return { operations: [send] };
}
