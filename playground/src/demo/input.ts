/**
 * The keyboard: arrow keys and WASD held down, as a move direction. Keys typed into the chat box
 * (or any other field) do not move the player.
 */
import type { MoveInput } from "./simulation.js";

const DIRECTIONS: Record<string, readonly [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
  KeyA: [-1, 0],
  KeyD: [1, 0],
  KeyW: [0, -1],
  KeyS: [0, 1],
};

export class Keyboard {
  private readonly held = new Set<string>();

  constructor(target: Window = window) {
    target.addEventListener("keydown", (event) => {
      if (!(event.code in DIRECTIONS) || isTextField(event.target)) return;
      this.held.add(event.code);
      // Arrow keys would scroll the page.
      event.preventDefault();
    });
    target.addEventListener("keyup", (event) => this.held.delete(event.code));
    // A key released while another window had the focus never sends keyup.
    target.addEventListener("blur", () => this.held.clear());
  }

  /** The direction the held keys ask for (opposite keys cancel out). */
  read(): MoveInput {
    let x = 0;
    let y = 0;
    for (const code of this.held) {
      const [dx, dy] = DIRECTIONS[code]!;
      x += dx;
      y += dy;
    }
    return { x: Math.sign(x), y: Math.sign(y) };
  }
}

function isTextField(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}
