/**
 * The page around the canvas: the status line (role, room, virtual IP, peers, P2P or relay, RTT),
 * the players list with positions, traffic counters, and the messages panel where every error is
 * shown. Everything a test reads has a data-testid.
 */
import { type NetworkStats, network_config_virtual_ip, network_get_config, network_get_stats } from "@gmnet/engine";
import type { Message, Recovery } from "./errors.js";
import type { Game } from "./game.js";
import { type PlayerView, playerColour } from "./world.js";

/** Looks up an element of demo.html by data-testid, of the expected kind. */
export function byTestId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const found = document.querySelector(`[data-testid="${id}"]`);
  if (!(found instanceof kind)) throw new Error(`demo.html has no ${kind.name} with data-testid="${id}"`);
  return found;
}

const text = (id: string): HTMLElement => byTestId(id, HTMLElement);

/** Messages kept on screen. */
const MAX_MESSAGES = 6;
/** Info messages (joins, leaves) go away by themselves after this long, ms; warnings and errors stay until dismissed. */
const INFO_LIFETIME_MS = 8000;

export class MessageList {
  private readonly list = byTestId("messages", HTMLOListElement);

  show(message: Message): void {
    // A message already on screen (a retry failing the same way): count it and move it to the top instead of stacking it.
    const key = `${message.level} ${message.code} ${message.text}`;
    const same = [...this.list.children].find((item): item is HTMLElement => item instanceof HTMLElement && item.dataset.key === key);
    if (same !== undefined) {
      const count = Number(same.dataset.count ?? "1") + 1;
      same.dataset.count = String(count);
      same.querySelector(".count")!.textContent = `×${count}`;
      this.list.prepend(same);
      return;
    }
    const item = document.createElement("li");
    item.dataset.level = message.level;
    item.dataset.key = key;
    if (message.until !== undefined) item.dataset.until = message.until;
    item.className = message.level === "error" ? "message error-banner" : `message ${message.level}`;
    const code = document.createElement("strong");
    code.dataset.testid = "message-code";
    code.textContent = message.code;
    const body = document.createElement("span");
    body.dataset.testid = "message-text";
    body.textContent = message.text;
    const count = document.createElement("small");
    count.className = "count";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "secondary dismiss";
    close.textContent = "×";
    close.title = "Dismiss";
    close.addEventListener("click", () => item.remove());
    item.append(code, body, count, close);
    this.list.prepend(item);
    while (this.list.children.length > MAX_MESSAGES) this.list.lastElementChild?.remove();
    if (message.level === "info") setTimeout(() => item.remove(), INFO_LIFETIME_MS);
  }

  /** Takes off the messages this recovery makes obsolete (being in a game also means being online). */
  clear(recovery: Recovery): void {
    for (const item of [...this.list.children]) {
      if (!(item instanceof HTMLElement)) continue;
      const until = item.dataset.until;
      if (until === recovery || (recovery === "in-game" && until === "online")) item.remove();
    }
  }
}

/**
 * Which path datagrams took lately: the p2p_/relay_ counters of network_get_stats, compared with
 * the previous reading (WebRTC takes a moment to open; until then, and when it fails, the relay carries them).
 */
class PathMeter {
  private previous: NetworkStats | undefined;

  read(stats: NetworkStats | undefined): string {
    if (stats === undefined) {
      this.previous = undefined;
      return "–";
    }
    const before = this.previous;
    this.previous = stats;
    if (before === undefined) return "–";
    const p2p = stats.p2p_packets_sent + stats.p2p_packets_received - before.p2p_packets_sent - before.p2p_packets_received;
    const relay = stats.relay_packets_sent + stats.relay_packets_received - before.relay_packets_sent - before.relay_packets_received;
    if (p2p > 0 && relay > 0) return "P2P + relay";
    if (p2p > 0) return "P2P";
    if (relay > 0) return "relay";
    return "–";
  }
}

export class StatusPanel {
  private readonly role = text("role");
  private readonly activity = text("activity");
  private readonly roomId = text("room-id");
  private readonly ip = text("virtual-ip");
  private readonly peers = text("peer-count");
  private readonly path = text("path");
  private readonly rtt = text("rtt");
  private readonly ping = text("ping");
  private readonly sent = text("packets-sent");
  private readonly received = text("packets-received");
  private readonly lost = text("packets-lost");
  private readonly dropped = text("packets-dropped");
  private readonly players = byTestId("players", HTMLUListElement);
  private readonly pathMeter = new PathMeter();

  private searchActivity = "starting…";

  /** What the game is doing, in words (the matchmaker's steps), shown while not in a game. */
  setActivity(activity: string): void {
    this.searchActivity = activity;
  }

  /** Refreshes everything from the game and the engine (a few times a second is plenty). */
  update(game: Game, views: readonly PlayerView[]): void {
    this.role.textContent = game.phase;
    this.role.dataset.role = game.phase;
    this.roomId.textContent = game.roomId === 0 ? "–" : String(game.roomId);
    const ip = String(network_get_config(network_config_virtual_ip));
    this.ip.textContent = ip === "" ? "–" : ip;
    const peers = game.world.remotes.size;
    this.peers.textContent = String(peers);
    this.activity.textContent =
      game.phase === "host"
        ? `hosting room ${game.roomId}: ${peers === 0 ? "waiting for players" : `${peers} guest${peers === 1 ? "" : "s"}`}`
        : game.phase === "guest"
          ? `playing in room ${game.roomId}`
          : this.searchActivity;
    // Our own PING/PONG: the round trip a game message really takes, simulated delays included.
    const pings = [...game.world.remotes.values()].flatMap((remote) => (remote.pingMs === undefined ? [] : [remote.pingMs]));
    this.ping.textContent = pings.length === 0 ? "–" : `${Math.max(...pings)} ms`;

    const udp = game.session === undefined ? undefined : network_get_stats(game.session.udpSocket);
    this.path.textContent = this.pathMeter.read(udp);
    // A UDP socket talking peer to peer reports the WebRTC round trip; otherwise the engine's to the server.
    const peerRtt = udp !== undefined && udp.rtt >= 0 && this.path.textContent.startsWith("P2P") ? udp.rtt : -1;
    const serverRtt = network_get_stats(-1)?.rtt ?? -1;
    this.rtt.textContent = peerRtt >= 0 ? `${Math.round(peerRtt)} ms (peer)` : serverRtt >= 0 ? `${Math.round(serverRtt)} ms (server)` : "–";
    this.sent.textContent = String(udp?.packets_sent ?? 0);
    this.received.textContent = String(udp?.packets_received ?? 0);
    this.lost.textContent = String(udp?.simulated_loss ?? 0);
    this.dropped.textContent = String(game.world.droppedOutOfOrder);

    this.updatePlayers(views);
  }

  /** One item per player: name, IP and rounded position (data-x, data-y), the local player first. */
  private updatePlayers(views: readonly PlayerView[]): void {
    const items = views.map((view) => {
      const item = document.createElement("li");
      item.dataset.testid = "player";
      item.dataset.local = String(view.local);
      item.dataset.name = view.name;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = playerColour(view.id);
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = view.local ? `${view.name || "you"} (you)` : view.name;
      const ip = document.createElement("code");
      ip.textContent = view.ip;
      const position = document.createElement("code");
      position.className = "position";
      position.dataset.testid = "player-position";
      if (view.visible) {
        item.dataset.x = String(Math.round(view.x));
        item.dataset.y = String(Math.round(view.y));
        position.textContent = `${Math.round(view.x)}, ${Math.round(view.y)}`;
      } else {
        position.textContent = "waiting…";
      }
      if (!view.local && view.mode !== undefined) item.dataset.mode = view.mode;
      const ping = document.createElement("small");
      ping.className = "ping";
      ping.textContent = view.pingMs === undefined ? "" : `ping ${view.pingMs} ms`;
      item.append(swatch, name, ip, position, ping);
      return item;
    });
    this.players.replaceChildren(...items);
  }
}
