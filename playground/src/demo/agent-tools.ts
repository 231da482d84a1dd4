/**
 * MCP tools for LLM agents (docs/MCP.md): once this tab is in a game it offers three tools through
 * the signaling server's /mcp endpoint, so an agent (an IDE's assistant, a test bot) can watch and
 * play along:
 *   list_players  who is in the game, and where;
 *   move_player   walks this tab's player to a point by the same simulation steps the keys drive
 *                 (the other tabs see it move as they would see a person play), answered on arrival;
 *   say           a chat line, marked as the agent's.
 *
 * It is a file of its own because it is optional: a server without an MCP token for the app key
 * refuses the tools (E_NETWORK_MCP_DISABLED), this file notes that in the console, and the demo
 * plays exactly as before. A tool name belongs to the first engine that offers it, so in one lobby
 * only the first tab in a game has the tools (the others note E_NETWORK_MCP_TOOL_TAKEN); outside
 * the default lobby the names start with the lobby's ("race-1_list_players"), so games in other
 * lobbies on the same server never take each other's tools.
 *
 * Each tab simulates only its own player (the others' positions are what their tabs sent), so
 * move_player moves this tab's player and answers any other one with an error saying so.
 */
import {
  type AsyncLoad,
  ev_async_web_networking,
  network_mcp_tool_register,
  network_mcp_tool_respond,
  network_type_mcp_call,
  network_type_mcp_call_ended,
  network_type_mcp_tool,
} from "@gmnet/engine";
import type { Game } from "./game.js";
import { MAX_CHAT_LENGTH } from "./protocol.js";
import { ARENA_HEIGHT, ARENA_WIDTH, type Body, PLAYER_RADIUS, TICK_RATE, step } from "./simulation.js";

/** Put before the agent's chat lines, so every tab can tell them from a person's. */
export const AGENT_MARK = "[agent] ";
/** The longest line the agent may say: the mark and the text fit in one chat line. */
export const MAX_AGENT_TEXT = MAX_CHAT_LENGTH - AGENT_MARK.length;
/** A move that has not arrived after this many simulation steps (10 s) stops where it is. */
export const MAX_MOVE_STEPS = 10 * TICK_RATE;
/** Within this many px of the target a move has arrived. */
const ARRIVED_PX = 1;

/** The tools' names without the lobby prefix, and their descriptions and argument schemas. */
export const TOOLS = {
  list_players: {
    description: "Lists the players in this demo game: id, name, position (x, y in px, null before the first one arrived) and which one is this tab's (you). Also the arena's size.",
    schema: { type: "object", properties: {}, additionalProperties: false },
  },
  move_player: {
    description: `Walks this tab's player to (x, y) in the ${ARENA_WIDTH}×${ARENA_HEIGHT} px arena at walking speed, as if its keys were held, and answers with the position it reached. Only this tab's player can be moved.`,
    schema: {
      type: "object",
      properties: {
        player: { type: "string", minLength: 1, maxLength: 32, description: "The name of the player to move, as list_players gives it; this tab's player when left out." },
        x: { type: "integer", minimum: PLAYER_RADIUS, maximum: ARENA_WIDTH - PLAYER_RADIUS, description: "Target x in px (0 is the left wall)." },
        y: { type: "integer", minimum: PLAYER_RADIUS, maximum: ARENA_HEIGHT - PLAYER_RADIUS, description: "Target y in px (0 is the top wall)." },
      },
      required: ["x", "y"],
      additionalProperties: false,
    },
  },
  say: {
    description: `Says a line in the game's chat as the agent (every tab shows it after "${AGENT_MARK.trim()}").`,
    schema: {
      type: "object",
      properties: { text: { type: "string", minLength: 1, maxLength: MAX_AGENT_TEXT, description: "The line to say." } },
      required: ["text"],
      additionalProperties: false,
    },
  },
} as const;

export type ToolId = keyof typeof TOOLS;

/** The name a tool is offered under in `lobby`: plain in the default lobby, "<lobby>_<tool>" in any other. */
export function toolName(tool: ToolId, lobby: string, defaultLobby = "public"): string {
  return lobby === defaultLobby ? tool : `${lobby}_${tool}`;
}

/**
 * One simulation step of walking `body` towards `target`: the keys' step (simulation.ts) with the
 * input pointing at the target, until the target is within this step's reach; then it stops on it.
 */
export function walkTowards(body: Body, target: { readonly x: number; readonly y: number }): { body: Body; arrived: boolean } {
  const dx = target.x - body.x;
  const dy = target.y - body.y;
  const distance = Math.hypot(dx, dy);
  if (distance > ARRIVED_PX) {
    const next = step(body, { x: dx / distance, y: dy / distance });
    if (Math.hypot(next.x - body.x, next.y - body.y) < distance) return { body: next, arrived: false };
  }
  return { body: { x: target.x, y: target.y, vx: 0, vy: 0 }, arrived: true };
}

interface Move {
  readonly callId: number;
  readonly target: { readonly x: number; readonly y: number };
  steps: number;
}

export class AgentTools {
  private offered = false;
  /** Register request id → the tool. */
  private readonly requests = new Map<number, string>();
  /** Offered name → tool. */
  private readonly names = new Map<string, ToolId>();
  private move: Move | undefined;

  constructor(
    private readonly game: Game,
    private readonly lobby: string,
    /** Where notes about the tools go (the browser console: they are not the player's business). */
    private readonly note: (text: string) => void = (text) => console.info(`[demo MCP] ${text}`),
  ) {}

  /** Offers the tools, once (the engine offers them again by itself after a reconnect). */
  offer(): void {
    if (this.offered) return;
    this.offered = true;
    for (const [tool, { description, schema }] of Object.entries(TOOLS) as Array<[ToolId, (typeof TOOLS)[ToolId]]>) {
      const name = toolName(tool, this.lobby);
      this.names.set(name, tool);
      this.requests.set(network_mcp_tool_register(name, description, schema), name);
    }
  }

  /** Handles the MCP events of async_event_dispatch; false for every other event. */
  handleEvent(load: AsyncLoad, eventType: number): boolean {
    if (eventType !== ev_async_web_networking) return false;
    switch (load.type) {
      case network_type_mcp_tool:
        this.registered(load);
        return true;
      case network_type_mcp_call:
        this.called(Number(load.call_id), String(load.tool), (load.arguments ?? {}) as Record<string, unknown>);
        return true;
      case network_type_mcp_call_ended:
        // The agent stopped waiting (timeout, cancelled, connection lost): its move stops too.
        if (this.move?.callId === load.call_id) this.stopMove();
        return true;
      default:
        return false;
    }
  }

  private registered(load: AsyncLoad): void {
    const name = this.requests.get(Number(load.id)) ?? String(load.name);
    this.requests.delete(Number(load.id));
    if (load.succeeded === 1) this.note(`offered the MCP tool ${name}`);
    else this.note(`the MCP tool ${name} is not offered: ${String(load.error)} (${String(load.message)})`);
  }

  private called(callId: number, name: string, args: Record<string, unknown>): void {
    const tool = this.names.get(name);
    try {
      switch (tool) {
        case "list_players":
          this.respond(callId, this.players());
          return;
        case "move_player":
          this.startMove(callId, args);
          return;
        case "say":
          this.say(callId, String(args.text));
          return;
        default:
          this.respond(callId, `this tab offers no tool ${name}`, true);
      }
    } catch (error) {
      this.respond(callId, `${name} failed: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  }

  private players(): object {
    const { game } = this;
    const players = game.world.view(performance.now()).map((view) => ({
      id: view.id,
      name: view.name,
      x: view.visible ? Math.round(view.x) : null,
      y: view.visible ? Math.round(view.y) : null,
      you: view.local,
    }));
    return { phase: game.phase, room: game.roomId === 0 ? null : game.roomId, arena: { width: ARENA_WIDTH, height: ARENA_HEIGHT }, players };
  }

  private startMove(callId: number, args: Record<string, unknown>): void {
    const { local } = this.game.world;
    if (typeof args.player === "string" && args.player !== local.name) {
      const known = [...this.game.world.remotes.values()].some((remote) => remote.name === args.player);
      const why = known ? `${args.player} is played from another tab` : `there is no player ${args.player}`;
      this.respond(callId, `${why}: this tab can move only its own player, ${local.name}`, true);
      return;
    }
    // A move still under way gives way to the newer one.
    if (this.move !== undefined) this.finishMove("replaced by a newer move_player call", true);
    this.move = { callId, target: { x: Number(args.x), y: Number(args.y) }, steps: 0 };
    this.game.driver = (body, keys) => this.drive(body, keys);
  }

  /** One simulation step of the move (Game.frame's driver). */
  private drive(body: Body, keys: { x: number; y: number }): Body | undefined {
    const move = this.move;
    if (move === undefined) return undefined;
    if (keys.x !== 0 || keys.y !== 0) {
      this.finishMove(`the player at the keyboard took over at (${Math.round(body.x)}, ${Math.round(body.y)})`, true);
      return undefined;
    }
    const next = walkTowards(body, move.target);
    move.steps++;
    if (next.arrived || move.steps >= MAX_MOVE_STEPS) {
      const { local } = this.game.world;
      const reached = { player: local.name, id: local.id, x: Math.round(next.body.x), y: Math.round(next.body.y), arrived: next.arrived };
      this.finishMove(reached, false);
    }
    return next.body;
  }

  private finishMove(result: unknown, isError: boolean): void {
    const move = this.move;
    this.stopMove();
    if (move !== undefined) this.respond(move.callId, result, isError);
  }

  private stopMove(): void {
    this.move = undefined;
    this.game.driver = undefined;
  }

  private say(callId: number, text: string): void {
    const line = `${AGENT_MARK}${text}`.slice(0, MAX_CHAT_LENGTH);
    if (this.game.sendChat(line)) this.respond(callId, { said: line });
    else this.respond(callId, "not in a game yet: nobody would read it", true);
  }

  private respond(callId: number, result: unknown, isError = false): void {
    const status = network_mcp_tool_respond(callId, result, isError);
    if (status !== 0) this.note(`could not answer MCP call ${callId} (${status})`);
  }
}
