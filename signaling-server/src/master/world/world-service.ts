/**
 * World state (PROTOCOL.md §16.10): named JSON documents shared by every client of an app key.
 * Everyone logged in (guests included) reads them (WORLD_GET, WORLD_LIST) and may subscribe to
 * some or all of them (WORLD_SUBSCRIBE, WORLD_UNSUBSCRIBE) for an EVENT WORLD_UPDATE per write.
 * Only the accounts the operator lists in `worldWriters` for the app key write (WORLD_SET), each
 * write naming the version it read: optimistic concurrency, a stale write is refused with the
 * current version. Documents live in the storage (SQLite or PostgreSQL) and survive restarts;
 * subscriptions belong to the login and end with it.
 */
import { MasterEvent, MasterOp } from "@gmnet/protocol";
import { z } from "zod";
import { parseWorldWriter } from "../../config.js";
import type { Session } from "../../session/session.js";
import type { Login } from "../caller.js";
import type { MasterDeps } from "../deps.js";
import { jsonObjectSchema } from "../json-object.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { type Body, fail, ok } from "../outcome.js";
import type { WorldDocument } from "../../storage/storage.js";

/** Nesting a value may have: the object itself is depth 1. */
export const MAX_WORLD_VALUE_DEPTH = 8;

/** GET /api/world/shards lists the documents whose names start with this. */
export const SHARD_PREFIX = "shard:";

/** 1–64 characters of A–Z a–z 0–9 _ . : - / (so names need no escaping in JSON, URLs or logs). */
const NAME_PATTERN = /^[A-Za-z0-9_.:/-]+$/;
const documentName = z.string().min(1).max(64).regex(NAME_PATTERN, "only letters A–Z a–z, digits and _ . : - / are allowed");
const prefix = z.string().max(64).regex(/^[A-Za-z0-9_.:/-]*$/, "only letters A–Z a–z, digits and _ . : - / are allowed");

/** The Document body of §16.10. */
function view(document: WorldDocument): Body {
  return { name: document.name, version: document.version, value: document.value, updatedAt: document.updatedAt, updatedBy: document.updatedBy };
}

interface Subscription {
  /** Every document of the app key, present and future. */
  all: boolean;
  readonly names: Set<string>;
}

export function createWorldService(deps: MasterDeps): { operations: AnyOperation[] } {
  const { config, storage } = deps.server;
  const documents = storage.world;
  /** appKey → lower-cased user names allowed to write. */
  const writers = new Map<string, Set<string>>();
  for (const entry of config.worldWriters) {
    const { appKey, username } = parseWorldWriter(entry);
    let names = writers.get(appKey);
    if (names === undefined) writers.set(appKey, (names = new Set()));
    names.add(username.toLowerCase());
  }
  /** appKey → the connections subscribed to some of its documents. */
  const subscribers = new Map<string, Map<Session, Subscription>>();

  const mayWrite = (appKey: string, login: Login): boolean => !login.guest && (writers.get(appKey)?.has(login.username.toLowerCase()) ?? false);

  const subscriptionOf = (session: Session): Subscription | undefined => subscribers.get(session.appKey)?.get(session);

  const drop = (session: Session): void => {
    const app = subscribers.get(session.appKey);
    app?.delete(session);
    if (app?.size === 0) subscribers.delete(session.appKey);
  };

  /** What the subscription covers now, as answers show it; with the documents it covers when asked. */
  const state = async (appKey: string, subscription: Subscription | undefined, withDocuments: boolean): Promise<Body> => {
    const body: Body = { all: subscription?.all ?? false, names: [...(subscription?.names ?? [])].sort() };
    if (withDocuments) {
      body.documents = subscription === undefined ? [] : (await documents.list(appKey)).filter((document) => subscription.all || subscription.names.has(document.name)).map(view);
    }
    return body;
  };

  const publish = (appKey: string, document: WorldDocument): void => {
    const app = subscribers.get(appKey);
    if (app === undefined) return;
    const body = view(document);
    for (const [session, subscription] of app) {
      if (subscription.all || subscription.names.has(document.name)) deps.sendEvent(session, MasterEvent.WORLD_UPDATE, body);
    }
  };

  /** WORLD_SUBSCRIBE and WORLD_UNSUBSCRIBE: the documents, or none for all of them. */
  const subscriptionNames = z.strictObject({ names: z.array(documentName).min(1).max(config.worldMaxSubscriptions).optional() });

  deps.online.listen({ onLogout: (session) => drop(session) });

  const operations = [
    defineOperation({
      op: MasterOp.WORLD_GET,
      needs: "login",
      body: z.strictObject({ name: documentName }),
      async run({ caller, body }) {
        const document = await documents.get(caller.appKey, body.name);
        return document === undefined ? fail("world_document_not_found", `there is no world document ${JSON.stringify(body.name)}`) : ok(view(document));
      },
    }),
    defineOperation({
      op: MasterOp.WORLD_LIST,
      needs: "login",
      // name: that document alone (none when it does not exist); prefix: those whose names start with it.
      body: z.strictObject({ name: documentName.optional(), prefix: prefix.optional() }),
      async run({ caller, body }) {
        const list = (await documents.list(caller.appKey)).filter((document) => (body.name === undefined || document.name === body.name) && document.name.startsWith(body.prefix ?? ""));
        return ok({ documents: list.map(view) });
      },
    }),
    defineOperation({
      op: MasterOp.WORLD_SET,
      needs: "login",
      body: z.strictObject({
        name: documentName,
        value: jsonObjectSchema(config.worldValueMaxBytes, MAX_WORLD_VALUE_DEPTH),
        // 0: create, only if the document does not exist.
        expectedVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      }),
      async run({ caller, body }) {
        if (!mayWrite(caller.appKey, caller.login)) {
          return fail("not_world_writer", `${caller.login.guest ? "a guest" : caller.login.username} may not write world documents of this app key (the server's worldWriters)`);
        }
        const max = config.worldMaxDocuments;
        const result = await documents.write(caller.appKey, body.name, JSON.stringify(body.value), body.expectedVersion, deps.wallNow(), caller.login.username, max);
        if ("document" in result) {
          publish(caller.appKey, result.document);
          return ok(view(result.document));
        }
        if (result.problem === "too_many") return fail("too_many_world_documents", `an app key may have at most ${max} world documents`);
        const message =
          result.version === 0
            ? `there is no world document ${JSON.stringify(body.name)}: create it with expectedVersion 0`
            : `${JSON.stringify(body.name)} is at version ${result.version}, not ${body.expectedVersion}: read it again`;
        return fail("world_version_conflict", message, { name: body.name, version: result.version });
      },
    }),
    defineOperation({
      op: MasterOp.WORLD_SUBSCRIBE,
      needs: "connection",
      // No names: every document of the app key, present and future.
      body: subscriptionNames,
      async run({ caller, body }) {
        const { session } = caller;
        const current = subscriptionOf(session);
        const all = (current?.all ?? false) || body.names === undefined;
        const names = new Set([...(current?.names ?? []), ...(body.names ?? [])]);
        if (names.size + (all ? 1 : 0) > config.worldMaxSubscriptions) {
          return fail("too_many_subscriptions", `a connection may subscribe to at most ${config.worldMaxSubscriptions} world documents (all of them counts as one)`);
        }
        const subscription: Subscription = { all, names };
        let app = subscribers.get(session.appKey);
        if (app === undefined) subscribers.set(session.appKey, (app = new Map()));
        app.set(session, subscription);
        return ok(await state(caller.appKey, subscription, true));
      },
    }),
    defineOperation({
      op: MasterOp.WORLD_UNSUBSCRIBE,
      needs: "connection",
      // No names: everything, `all` included; names: those (an `all` subscription stays).
      body: subscriptionNames,
      async run({ caller, body }) {
        const { session } = caller;
        const current = subscriptionOf(session);
        if (current !== undefined) {
          if (body.names === undefined) current.all = false;
          for (const name of body.names ?? [...current.names]) current.names.delete(name);
          if (!current.all && current.names.size === 0) drop(session);
        }
        return ok(await state(caller.appKey, subscriptionOf(session), false));
      },
    }),
  ];

  return { operations };
}
