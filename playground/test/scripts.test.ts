/**
 * The script picker's names (a new script, an edited example as the user's own script) and the
 * masking of credentials: in the event log (runner/format.ts) and in the Login + rooms example.
 */
import * as engine from "@gmnet/engine";
import { describe, expect, it } from "vitest";
import { ENTRIES, EXAMPLES, NEW_SCRIPT, exampleById, scriptSummary, scriptTitle } from "../src/playground/examples/index.js";
import { EventNamer, isSecretKey, maskSecret } from "../src/playground/runner/format.js";

describe("the script picker", () => {
  it("offers a new script first, then every example, each findable by id", () => {
    expect(ENTRIES[0]).toBe(NEW_SCRIPT);
    expect(ENTRIES.slice(1)).toEqual(EXAMPLES);
    for (const entry of ENTRIES) expect(exampleById(entry.id)).toBe(entry);
    expect(new Set(ENTRIES.map((entry) => entry.id)).size).toBe(ENTRIES.length);
    expect(exampleById("nope")).toBeUndefined();
  });

  it("the new script is a blank template with the hooks ready", () => {
    expect(NEW_SCRIPT.title).toBe("New script");
    expect(NEW_SCRIPT.code).toContain("function step()");
    expect(NEW_SCRIPT.code).toContain("function async_event(async_load, event_type)");
    expect(NEW_SCRIPT.code).not.toMatch(/network_create|buffer_create/);
  });

  it("an edited entry is the user's own script, not the example", () => {
    const chat = exampleById("tcp-chat")!;
    expect(scriptTitle(chat, chat.code)).toBe(chat.title);
    expect(scriptTitle(chat, `${chat.code}\n// mine`)).toBe(`My script (from ${chat.title})`);
    expect(scriptTitle(NEW_SCRIPT, NEW_SCRIPT.code)).toBe("New script");
    expect(scriptTitle(NEW_SCRIPT, "show_debug_message(1);")).toBe("My script");
    expect(scriptSummary(chat, chat.code)).toBe(chat.summary);
    expect(scriptSummary(chat, "x")).toContain(`started from the “${chat.title}” example`);
    expect(scriptSummary(NEW_SCRIPT, "x")).toMatch(/^Your own script\./);
  });
});

describe("credentials are masked", () => {
  it("shows a secret's first 4 characters and …, a short one not at all", () => {
    const cases: Array<[secret: string, shown: string]> = [["Zm9vYmFyYmF6cXV4LXRva2Vu", "Zm9v…"], ["123456789", "1234…"], ["12345678", "…"], ["", "…"]];
    for (const [secret, shown] of cases) expect(maskSecret(secret), secret).toBe(shown);
  });

  it("knows which async_load keys hold one", () => {
    for (const key of ["token", "session_token", "secret", "password", "TOKEN"]) expect(isSecretKey(key), key).toBe(true);
    for (const key of ["tokens_left", "username", "id", "type", "message"]) expect(isSecretKey(key), key).toBe(false);
  });

  it("the event log never shows a token whole", () => {
    const namer = new EventNamer(engine as unknown as Record<string, unknown>);
    const token = "s3cr3t-b34r3r-t0k3n-v4lu3";
    const fields = namer.fields({ type: engine.master_type_response, id: 4, succeeded: 1, username: "guest-12", token }, engine.ev_async_social, () => undefined);
    const shown = fields.find((field) => field.key === "token")!;
    expect(shown.value).toBe('"s3cr…"');
    expect(JSON.stringify(fields)).not.toContain(token);
    expect(fields.find((field) => field.key === "username")!.value).toBe('"guest-12"');
  });

  it("the Login + rooms example prints the token masked the same way", () => {
    const code = exampleById("login-rooms")!.code;
    expect(code).toMatch(/show_debug_message\("session token \{0\} \(masked\)", masked\(async_load\.token\)\)/);
    const masked = new Function(`${/function masked\(token\) \{[\s\S]*?\n\}/.exec(code)![0]}\nreturn masked;`)() as (token: string) => string;
    for (const token of ["Zm9vYmFyYmF6cXV4LXRva2Vu", "123456789", "12345678"]) expect(masked(token)).toBe(maskSecret(token));
    expect(code).not.toMatch(/show_debug_message\([^)]*async_load\.token\)/);
  });
});
