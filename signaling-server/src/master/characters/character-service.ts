/**
 * Characters (PROTOCOL.md §16.9): CHARACTER_CREATE, CHARACTER_LIST, CHARACTER_SELECT and
 * CHARACTER_DELETE for the caller's account, each with a name unique per app key and a JSON
 * object of attributes. The selected character is the account's (it outlives the login); its
 * name goes into the Session (read from the storage), presence and chat (read synchronously from
 * what this service remembers of the accounts logged in here: loaded at login, kept up to date by
 * the operations below).
 */
import { MasterOp } from "@gmnet/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import type { Login } from "../caller.js";
import type { MasterDeps } from "../deps.js";
import { jsonObjectSchema } from "../json-object.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import type { LogoutReason } from "../online.js";
import { type Body, fail, ok } from "../outcome.js";
import type { Character, SelectedCharacter } from "../../storage/storage.js";

export interface CharacterService {
  readonly operations: AnyOperation[];
  /** The account's selected character, if any, from the storage. */
  selected(accountId: number): Promise<SelectedCharacter | undefined>;
  /** The selected character of an account logged in here (remembered at login), if any. */
  selectedOf(accountId: number): SelectedCharacter | undefined;
  /** Call right before OnlineAccounts.login, with what selected() answered: selectedOf knows it from then on. */
  remember(accountId: number, selected: SelectedCharacter | undefined): void;
  /** A login ended (an OnlineAccounts onLogout that runs after every other): forgets the account unless it moves to another connection. */
  forget(accountId: number, reason: LogoutReason): void;
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
  const { config, storage } = deps.server;
  const characters = storage.characters;
  /** accountId → its selected character (undefined: none), for the accounts logged in here. */
  const remembered = new Map<number, SelectedCharacter | undefined>();
  /** Keeps what selectedOf answers up to date after a change made here. */
  const update = (accountId: number, selected: SelectedCharacter | undefined): void => {
    if (remembered.has(accountId)) remembered.set(accountId, selected);
  };
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
      async run({ caller, body }) {
        const max = config.maxCharactersPerAccount;
        const result = await characters.create(caller.appKey, caller.login.accountId, body.name, JSON.stringify(body.attributes ?? {}), deps.wallNow(), max);
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
      async run({ caller }) {
        const list = await characters.list(caller.login.accountId);
        return ok({ selectedId: list.find((character) => character.selected)?.id ?? 0, characters: list.map(view) });
      },
    }),
    defineOperation({
      op: MasterOp.CHARACTER_SELECT,
      needs: "login",
      // 0 selects none.
      body: z.strictObject({ characterId: z.union([z.literal(0), characterId]) }),
      async run({ caller, body }) {
        const { accountId } = caller.login;
        const before = (await characters.selected(accountId))?.id ?? 0;
        let answer: Body;
        if (body.characterId === 0) {
          await characters.deselect(accountId);
          update(accountId, undefined);
          answer = { characterId: 0 };
        } else {
          const character = await characters.select(accountId, body.characterId);
          if (character === undefined) return notFound(body.characterId);
          update(accountId, { id: character.id, name: character.name });
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
      async run({ caller, body }) {
        const { accountId } = caller.login;
        const wasSelected = (await characters.selected(accountId))?.id === body.characterId;
        if (!(await characters.delete(accountId, body.characterId))) return notFound(body.characterId);
        if (wasSelected) {
          update(accountId, undefined);
          changed(caller.appKey, accountId);
        }
        return ok({ characterId: body.characterId });
      },
    }),
  ];

  return {
    operations,
    selected: (accountId) => characters.selected(accountId),
    selectedOf: (accountId) => remembered.get(accountId),
    remember(accountId, selected) {
      remembered.set(accountId, selected);
    },
    forget(accountId, reason) {
      // Replaced: the account is logging in on another connection right now, with what it remembered.
      if (reason !== "replaced") remembered.delete(accountId);
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
