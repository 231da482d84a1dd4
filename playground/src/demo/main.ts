import "../shared/expose-engine.js";
/**
 * The two-tab demo game. Open demo.html in two tabs (or two browsers): the first becomes the
 * host of a master room, the next ones find the room and join. Each tab moves its own player with
 * the arrow keys or WASD; positions go over UDP, chat over TCP.
 *
 * This file is the page's glue: it finds the elements, and runs the game loop — once per frame,
 * drain the async events (async_event_dispatch, as a GameMaker step would), run the fixed-step
 * simulation and send the position (game.ts), draw (render.ts), and a few times a second refresh
 * the status and the players list (ui.ts).
 *
 * `?lobby=name` keeps a group of tabs apart from everyone else on the same server (the tests use it).
 *
 * Once in a game, the page also offers MCP tools to LLM agents (agent-tools.ts); without an MCP
 * token on the server that is refused, noted in the console, and changes nothing else.
 */
import "../shared/theme.css";
import "./demo.css";
import { async_event_dispatch } from "@gmnet/engine";
import { AgentTools } from "./agent-tools.js";
import { ChatBox } from "./chat.js";
import { setUpConditions } from "./conditions.js";
import { type Message, describeThrown } from "./errors.js";
import { Game } from "./game.js";
import { Keyboard } from "./input.js";
import { Renderer } from "./render.js";
import { MessageList, StatusPanel, byTestId } from "./ui.js";

/** How often the status line and the players list are refreshed, ms. */
const UI_INTERVAL_MS = 200;
/**
 * requestAnimationFrame stops in a hidden tab, but a host must keep forwarding its guests'
 * positions: then a timer runs the loop instead (browsers slow it to about once a second).
 */
const HIDDEN_TAB_INTERVAL_MS = 100;

const messages = new MessageList();
const showMessage = (message: Message): void => messages.show(message);

const lobby = lobbyFromUrl();
byTestId("lobby", HTMLElement).textContent = lobby;

const status = new StatusPanel();
const chat = new ChatBox(byTestId("chat-log", HTMLOListElement), byTestId("chat-form", HTMLFormElement), byTestId("chat-input", HTMLInputElement), (text) =>
  game.sendChat(text),
);
const game = new Game(lobby, {
  message: showMessage,
  chat: (from, text, local) => chat.add(from, text, local ? "local" : "remote"),
  status: (text) => status.setActivity(text),
  recovered: (recovery) => messages.clear(recovery),
});

const agent = new AgentTools(game, lobby);

const canvas = byTestId("arena", HTMLCanvasElement);
const renderer = new Renderer(canvas);
const keyboard = new Keyboard();
setUpConditions({
  preset: byTestId("simulate-bad-network", HTMLInputElement),
  latency: byTestId("latency", HTMLInputElement),
  jitter: byTestId("jitter", HTMLInputElement),
  loss: byTestId("loss", HTMLInputElement),
  latencyOut: byTestId("latency-value", HTMLOutputElement),
  jitterOut: byTestId("jitter-value", HTMLOutputElement),
  lossOut: byTestId("loss-value", HTMLOutputElement),
});
byTestId("find-game", HTMLButtonElement).addEventListener("click", () => game.findGame());

let lastUiUpdate = -Infinity;
let lastFrameAt = -Infinity;

/** One step of the game: events, simulation, network, drawing. */
function runFrame(now: number): void {
  lastFrameAt = now;
  try {
    async_event_dispatch((async_load, event_type) => {
      // One bad event must not keep the others waiting: report it and go on.
      try {
        if (!agent.handleEvent(async_load, event_type)) game.handleEvent(async_load, event_type, now);
      } catch (error) {
        showMessage(describeThrown(error, "Handling a network event"));
      }
    });
    if (game.phase === "host" || game.phase === "guest") agent.offer();
    game.frame(now, keyboard.read());
    const views = game.world.view(now);
    renderer.draw(views);
    if (now - lastUiUpdate >= UI_INTERVAL_MS) {
      lastUiUpdate = now;
      status.update(game, views);
    }
  } catch (error) {
    showMessage(describeThrown(error, "Running the game"));
  }
}

function animationFrame(now: number): void {
  runFrame(now);
  requestAnimationFrame(animationFrame);
}

requestAnimationFrame(animationFrame);
setInterval(() => {
  const now = performance.now();
  if (now - lastFrameAt > HIDDEN_TAB_INTERVAL_MS * 2) runFrame(now);
}, HIDDEN_TAB_INTERVAL_MS);

canvas.focus();
game.findGame();

/** `?lobby=` from the page's URL: 1–32 letters, digits, `-` or `_`; "public" otherwise. */
function lobbyFromUrl(): string {
  const wanted = new URLSearchParams(location.search).get("lobby") ?? "";
  return /^[A-Za-z0-9_-]{1,32}$/.test(wanted) ? wanted : "public";
}
