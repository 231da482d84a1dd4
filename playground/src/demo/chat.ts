/**
 * The chat box: a log of lines and a field to type into. Sending is the game's business (TCP,
 * through the host); this file only shows lines and hands typed text over.
 */
import { MAX_CHAT_LENGTH } from "./protocol.js";

/** Lines kept in the log. */
const MAX_LINES = 100;

export class ChatBox {
  constructor(
    private readonly log: HTMLOListElement,
    form: HTMLFormElement,
    input: HTMLInputElement,
    /** Sends a line; false when there is nobody to send it to (then it stays in the field). */
    send: (text: string) => boolean,
  ) {
    input.maxLength = MAX_CHAT_LENGTH;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim().slice(0, MAX_CHAT_LENGTH);
      if (text === "") return;
      if (send(text)) input.value = "";
      else this.add("", "Not in a game yet: the line was not sent.", "system");
    });
  }

  add(from: string, text: string, kind: "local" | "remote" | "system"): void {
    const line = document.createElement("li");
    line.dataset.testid = "chat-line";
    line.className = kind;
    if (from !== "") {
      const name = document.createElement("strong");
      name.textContent = `${from}: `;
      line.append(name);
    }
    line.append(text);
    const atBottom = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 4;
    this.log.append(line);
    while (this.log.children.length > MAX_LINES) this.log.firstElementChild?.remove();
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }
}
