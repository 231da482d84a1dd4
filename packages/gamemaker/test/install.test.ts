/**
 * `gmnet gamemaker-install` on a GameMaker project generated here (with @bscotch/yy) in a temp
 * folder: the project parses back with @bscotch/yy and lists the extension, whose .yy declares
 * every wrapper the script defines; bad paths give the documented errors and exit codes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { Yy } from "@bscotch/yy";
import { createEngine, createMemoryStorage } from "@gmnet/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildExtension } from "../src/build.js";
import { EXIT_CODES, runCli } from "../src/cli.js";
import { NOT_EXPOSED, NOT_EXPOSED_PREFIXES, exposedFunctionNames, isNotExposed } from "../src/glue.js";

let dir: string;
let script: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gmnet-gm-install-"));
  script = await buildExtension(join(dir, "dist"));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function project(name: string): string {
  const folder = join(dir, name);
  const yyp = Yy.populate({ name, resourceVersion: "1.7", MetaData: { IDEVersion: "2024.8.1.171" }, configs: { name: "Default", children: [] } } as never, "project");
  const path = join(folder, `${name}.yyp`);
  Yy.writeSync(path, yyp, "project");
  return path;
}

function run(args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(args, { out: (line) => out.push(line), err: (line) => err.push(line) }, script);
  return { code, out, err };
}

describe("gmnet gamemaker-install", () => {
  it("adds the extension to a project, which parses back and lists it", () => {
    const yypPath = project("Arena");
    const { code, err } = run(["gamemaker-install", yypPath]);
    expect(err).toEqual([]);
    expect(code).toBe(0);

    const yyp = Yy.readSync(yypPath, "project");
    expect(yyp.name).toBe("Arena");
    expect(yyp.resources).toContainEqual({ id: { name: "gmnet", path: "extensions/gmnet/gmnet.yy" } });

    const folder = join(dir, "Arena", "extensions", "gmnet");
    expect(readFileSync(join(folder, "gmnet.js"), "utf8")).toBe(readFileSync(script, "utf8"));
    const extension = Yy.readSync(join(folder, "gmnet.yy"), "extensions");
    expect(extension.name).toBe("gmnet");
    const file = extension.files[0]!;
    expect(file).toMatchObject({ filename: "gmnet.js", kind: 5 });
    const names = file.functions.map((fn) => fn.name);
    expect(names).toContain("gmnet_network_create_server");
    expect(names).toContain("gmnet_async_step");
    for (const fn of file.functions) expect(fn.externalName).toBe(fn.name);
    expect(file.constants.find((constant) => constant.name === "gmnet_network_socket_tcp")?.value).toBe("0");

    // Every function the .yy declares is a global the script defines.
    const page: Record<string, unknown> = { TextEncoder, TextDecoder, setTimeout, clearTimeout, console, crypto, btoa, atob };
    runInNewContext(readFileSync(script, "utf8"), page);
    for (const name of names) expect(typeof page[name], name).toBe("function");

    // Installing again updates in place: one resource entry.
    expect(run(["gamemaker-install", yypPath]).code).toBe(0);
    expect(Yy.readSync(yypPath, "project").resources.filter((r) => r.id.name === "gmnet")).toHaveLength(1);
  });

  it("wraps every engine function but those it documents leaving out", () => {
    const engine = createEngine({ storage: createMemoryStorage() });
    const all = Object.entries(engine).filter(([, value]) => typeof value === "function").map(([name]) => name);
    const exposed = new Set(exposedFunctionNames(engine));
    for (const name of all) expect(exposed.has(name) || isNotExposed(name), name).toBe(true);
    for (const name of Object.keys(NOT_EXPOSED)) expect(all, name).toContain(name);
    for (const prefix of Object.keys(NOT_EXPOSED_PREFIXES)) expect(all.some((name) => name.startsWith(prefix)), prefix).toBe(true);
    expect(exposed.has("network_create_server") && exposed.has("buffer_create") && exposed.has("master_login")).toBe(true);
  });

  it("gives the documented errors for a bad path", () => {
    const missing = run(["gamemaker-install", join(dir, "nowhere", "Game.yyp")]);
    expect(missing.code).toBe(EXIT_CODES.E_YYP_MISSING);
    expect(missing.err.join("\n")).toMatch(/E_YYP_MISSING: no such project file/);

    const notYyp = run(["gamemaker-install", join(dir, "Game.txt")]);
    expect(notYyp.code).toBe(EXIT_CODES.E_YYP_MISSING);

    const brokenPath = join(dir, "Broken.yyp");
    writeFileSync(brokenPath, "this is { not a project");
    const broken = run(["gamemaker-install", brokenPath]);
    expect(broken.code).toBe(EXIT_CODES.E_YYP_INVALID);
    expect(broken.err.join("\n")).toMatch(/E_YYP_INVALID/);
    expect(existsSync(join(dir, "extensions"))).toBe(false);

    expect(run([]).code).toBe(EXIT_CODES.E_USAGE);
    expect(run(["gamemaker-install", "--bogus"]).code).toBe(EXIT_CODES.E_USAGE);
  });
});
