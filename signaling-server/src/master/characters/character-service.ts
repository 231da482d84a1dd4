/**
 * Characters (PROTOCOL.md §16.9): CHARACTER_CREATE, CHARACTER_LIST, CHARACTER_SELECT and
 * CHARACTER_DELETE for the caller's account, each with a name unique per app key and a JSON
 * object of attributes. The selected character is the account's (it outlives the login); its
 * name goes into the Session, presence and chat, read here by the services that show it.
 */
import { MasterOp } from "@gmnet/engine/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import type { Login } from "../caller.js";
import type { MasterDeps } from "../deps.js";
import { jsonObjectSchema } from "../json-object.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { type Body, fail, ok } from "../outcome.js";
import { type Character, CharacterStore, type SelectedCharacter } from "./character-store.js";

export interface CharacterService {
  readonly operations: AnyOperation[];
  /** The account's selected character, if any. */
  selectedOf(accountId: number): SelectedCharacter | undefined;
  /** Called after the selection of an account that is logged in on a live connection changes (select, or deleting the selected one), for presence. */
  onChange(listener: (session: Session, login: Login) => void): void;
}

/** Nesting the attributes may have: the object itself is depth 1. */
export const MAX_ATTRIBUTE_DEPTH = 8;

/** 3–24 characters: letters A–Z a–z, digits, _ . - and single spaces between words. */
const characterName = z
  .string()
  .min(3)
  .max(24)
  .regex(/^[A-Za-z0-9_.-]+( [A-Za-z0-9_.-]+)*$/, "only letters A–Z a–z, digits, _ . - and single spaces between words are allowed");
const characterId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The Character body of §16.9. */
function view(character: Character): Body {
  return { characterId: character.id, name: character.name, attributes: character.attributes, selected: character.selected, createdAt: character.createdAt };
}

export function createCharacterService(deps: MasterDeps): CharacterService {
  const { config, store } = deps.server;
  const characters = new CharacterStore(store.db);
  const listeners: Array<(session: Session, login: Login) => void> = [];

  /** Tells the listeners, when the account is logged in on a live connection of the app key. */
  const changed = (appKey: string, accountId: number): void => {
    const session = deps.online.sessionOf(appKey, accountId);
    const login = session === undefined ? undefined : deps.online.loginOf(session);
    if (session === undefined || login === undefined) return;
    for (const listener of listeners) listener(session, login);
  };

  const notFound = (id: number) => fail("character_not_found", `you have no character ${id}`);

  const operations = [
    defineOperation({
      op: MasterOp.CHARACTER_CREATE,
      needs: "login",
      body: z.strictObject({ name: characterName, attributes: jsonObjectSchema(config.characterAttributesMaxBytes, MAX_ATTRIBUTE_DEPTH).optional() }),
      run({ caller, body }) {
        const max = config.maxCharactersPerAccount;
        const result = characters.create(caller.appKey, caller.login.accountId, body.name, JSON.stringify(body.attributes ?? {}), deps.wallNow(), max);
        if ("character" in result) return ok(view(result.character));
        return result.problem === "too_many"
          ? fail("too_many_characters", `an account may have at most ${max} characters`)
          : fail("character_name_taken", `the character name ${JSON.stringify(body.name)} is taken`);
      },
    }),
    defineOperation({
      op: MasterOp.CHARACTER_LIST,
      needs: "login",
      body: z.strictObject({}),
      run({ caller }) {
        const list = characters.list(caller.login.accountId);
        return ok({ selectedId: list.find((character) => character.selected)?.id ?? 0, characters: list.map(view) });
      },
    }),
    defineOperation({
      op: MasterOp.CHARACTER_SELECT,
      needs: "login",
      // 0 selects none.
      body: z.strictObject({ characterId: z.union([z.literal(0), characterId]) }),
      run({ caller, body }) {
        const { accountId } = caller.login;
        const before = characters.selected(accountId)?.id ?? 0;
        let answer: Body;
        if (body.characterId === 0) {
          characters.deselect(accountId);
          answer = { characterId: 0 };
        } else {
          const character = characters.select(accountId, body.characterId);
          if (character === undefined) return notFound(body.characterId);
          answer = view(character);
        }
        if (before !== body.characterId) changed(caller.appKey, accountId);
        return ok(answer);
      },
    }),
    defineOperation({
      op: MasterOp.CHARACTER_DELETE,
      needs: "login",
      body: z.strictObject({ characterId }),
      run({ caller, body }) {
        const { accountId } = caller.login;
        const wasSelected = characters.selected(accountId)?.id === body.characterId;
        if (!characters.delete(accountId, body.characterId)) return notFound(body.characterId);
        if (wasSelected) changed(caller.appKey, accountId);
        return ok({ characterId: body.characterId });
      },
    }),
  ];

  return {
    operations,
    selectedOf: (accountId) => characters.selected(accountId),
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
