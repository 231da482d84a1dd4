/**
 * Drawing the arena on a canvas: a grid, and every player as a coloured circle with its name and
 * virtual IP. The local player has a white ring; a remote player drawn from extrapolation (its
 * snapshots are late) gets a dashed ring, so packet loss can be seen.
 */
import { ARENA_HEIGHT, ARENA_WIDTH, PLAYER_RADIUS } from "./simulation.js";
import { type PlayerView, playerColour } from "./world.js";

const GRID = 40;

export class Renderer {
  private readonly context: CanvasRenderingContext2D;
  private readonly colours: { background: string; grid: string; text: string; muted: string; font: string };

  constructor(private readonly canvas: HTMLCanvasElement) {
    canvas.width = ARENA_WIDTH;
    canvas.height = ARENA_HEIGHT;
    const context = canvas.getContext("2d");
    if (context === null) throw new Error("this browser cannot draw on a 2D canvas");
    this.context = context;
    // The theme's CSS variables (shared/theme.css), read once.
    const style = getComputedStyle(canvas);
    const variable = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
    this.colours = {
      background: variable("--panel", "#171b24"),
      grid: variable("--border", "#2a3040"),
      text: variable("--text", "#e6e9ef"),
      muted: variable("--muted", "#8b93a7"),
      font: variable("--sans", "sans-serif"),
    };
  }

  draw(players: readonly PlayerView[]): void {
    const { context: g, colours } = this;
    g.fillStyle = colours.background;
    g.fillRect(0, 0, ARENA_WIDTH, ARENA_HEIGHT);
    g.strokeStyle = colours.grid;
    g.lineWidth = 1;
    g.beginPath();
    for (let x = GRID; x < ARENA_WIDTH; x += GRID) {
      g.moveTo(x + 0.5, 0);
      g.lineTo(x + 0.5, ARENA_HEIGHT);
    }
    for (let y = GRID; y < ARENA_HEIGHT; y += GRID) {
      g.moveTo(0, y + 0.5);
      g.lineTo(ARENA_WIDTH, y + 0.5);
    }
    g.stroke();

    // Remote players first, so the local one is always on top.
    for (const player of [...players].reverse()) if (player.visible) this.drawPlayer(player);
  }

  private drawPlayer(player: PlayerView): void {
    const { context: g, colours } = this;
    g.beginPath();
    g.arc(player.x, player.y, PLAYER_RADIUS, 0, Math.PI * 2);
    g.fillStyle = playerColour(player.id);
    g.fill();
    if (player.local || player.mode !== "interpolating") {
      g.lineWidth = 3;
      g.strokeStyle = player.local ? colours.text : colours.muted;
      g.setLineDash(player.local ? [] : [4, 4]);
      g.stroke();
      g.setLineDash([]);
    }
    // Name and IP above the circle, or below it near the top wall; kept inside the side walls.
    const below = player.y < PLAYER_RADIUS + 36;
    const nameY = below ? player.y + PLAYER_RADIUS + 16 : player.y - PLAYER_RADIUS - 18;
    const x = Math.min(ARENA_WIDTH - 70, Math.max(70, player.x));
    g.textAlign = "center";
    g.fillStyle = colours.text;
    g.font = `600 13px ${colours.font}`;
    g.fillText(player.local ? `${player.name || "you"} (you)` : player.name, x, nameY);
    g.fillStyle = colours.muted;
    g.font = `11px ${colours.font}`;
    g.fillText(player.ip, x, nameY + 13);
  }
}
