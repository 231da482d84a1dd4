// Builds what changed: the wire protocol (tsc → packages/protocol/dist), the engine (tsc →
// packages/engine/dist), the signaling server (tsc → signaling-server/dist), the playground (vite →
// playground/dist) and the docs site (VitePress → docs/.vitepress/dist, then copied to
// playground/dist/docs, which the server serves as /docs/)
// and the GameMaker extension (vite → packages/gamemaker/dist),
// each only when the files it is built from differ from those of its last build. A fingerprint
// (SHA-256 over the paths and contents of its inputs) is kept in the output folder, so deleting the
// output rebuilds it, and a failed build leaves no fingerprint behind. `npm start` on an unchanged
// tree so starts at once.
//
//   node scripts/build.mjs [protocol] [engine] [server] [playground] [gamemaker] [docs] [--force]   (no step named: all)
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const STAMP = ".build-fingerprint";
const SHARED = ["package-lock.json", "tsconfig.json"];
const PROTOCOL = ["packages/protocol/src", "packages/protocol/package.json", "packages/protocol/tsconfig.build.json"];
const ENGINE = ["packages/engine/src", "packages/engine/package.json", "packages/engine/tsconfig.build.json"];
const SERVER = ["signaling-server/src", "signaling-server/package.json", "signaling-server/tsconfig.build.json"];

const tsc = (project) => () => execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: root, stdio: "inherit" });

/** Each step: what it is built from, where it goes, and how. Later steps may use earlier outputs. */
const STEPS = {
  protocol: { inputs: [...SHARED, ...PROTOCOL], output: "packages/protocol/dist", run: tsc("packages/protocol/tsconfig.build.json") },
  // The engine's and the server's builds read the protocol's declarations, so a protocol change rebuilds them too.
  engine: { inputs: [...SHARED, ...PROTOCOL, ...ENGINE], output: "packages/engine/dist", run: tsc("packages/engine/tsconfig.build.json") },
  server: {
    inputs: [...SHARED, ...PROTOCOL, ...SERVER],
    output: "signaling-server/dist",
    run: () => {
      tsc("signaling-server/tsconfig.build.json")();
      chmodSync(join(root, "signaling-server/dist/cli.js"), 0o755);
    },
  },
  playground: {
    inputs: [...SHARED, "package.json", "vite.config.ts", "playground", "packages/protocol/src", "packages/engine/src"],
    output: "playground/dist",
    run: () => execFileSync(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: root, stdio: "inherit" }),
  },
  gamemaker: {
    // The GameMaker extension (the engine bundled with its GML glue) and the `gmnet` command.
    inputs: [...SHARED, ...PROTOCOL, ...ENGINE, "packages/gamemaker/src", "packages/gamemaker/package.json"],
    output: "packages/gamemaker/dist",
    run: () => execFileSync(process.execPath, ["--import", "tsx", "src/build-main.ts"], { cwd: join(root, "packages/gamemaker"), stdio: "inherit" }),
  },
  docs: {
    // The pages, PROTOCOL.md, and the engine's sources: its API reference lists the engine's exports.
    // The engine's sources import the protocol's build (packages/protocol/dist, an earlier step).
    inputs: [...SHARED, "package.json", "docs", "PROTOCOL.md", ...PROTOCOL, "packages/engine/src", "scripts/build-docs.mjs"],
    output: "docs/.vitepress/dist",
    run: () => execFileSync(process.execPath, [join(root, "scripts/build-docs.mjs"), join(root, "docs/.vitepress/dist")], { cwd: root, stdio: "inherit" }),
  },
};

/** Where the server finds the docs site: inside the playground's build, which each playground build replaces. */
const DOCS_SITE = { from: "docs/.vitepress/dist", to: "playground/dist/docs" };

/** Files under `path` (or `path` itself), sorted; build outputs, dependencies and tests left out. */
function files(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !/[\\/](node_modules|dist|test|\.vite)[\\/]/.test(relative(root, file)))
    .sort();
}

function fingerprint(inputs) {
  const hash = createHash("sha256");
  for (const file of inputs.flatMap(files)) hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

const { values, positionals } = parseArgs({ options: { force: { type: "boolean", default: false } }, allowPositionals: true });
const unknown = positionals.filter((name) => !(name in STEPS));
if (unknown.length > 0) {
  console.error(`build: unknown step ${unknown.join(", ")} (steps: ${Object.keys(STEPS).join(", ")})`);
  process.exit(2);
}
const chosen = positionals.length > 0 ? Object.keys(STEPS).filter((name) => positionals.includes(name)) : Object.keys(STEPS);

for (const name of chosen) {
  const step = STEPS[name];
  const stamp = join(root, step.output, STAMP);
  const wanted = fingerprint(step.inputs);
  if (!values.force && existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) {
    console.log(`build: ${name} is up to date`);
    continue;
  }
  const started = performance.now();
  // A clean output folder, so files of deleted sources never linger in a build.
  rmSync(join(root, step.output), { recursive: true, force: true });
  try {
    step.run();
  } catch {
    // The tool has printed why; no fingerprint is written, so the next run tries again.
    console.error(`build: ${name} failed`);
    process.exit(1);
  }
  writeFileSync(stamp, wanted);
  console.log(`build: ${name} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// The docs site into the playground's build, when either was built or the copy there is not the
// latest docs build (the copy carries that build's fingerprint). A copy takes a fraction of a second.
if (chosen.includes("playground") || chosen.includes("docs")) {
  const built = join(root, DOCS_SITE.from, STAMP);
  const copied = join(root, DOCS_SITE.to, STAMP);
  if (existsSync(built) && existsSync(join(root, "playground/dist")) && (!existsSync(copied) || readFileSync(copied, "utf8") !== readFileSync(built, "utf8"))) {
    rmSync(join(root, DOCS_SITE.to), { recursive: true, force: true });
    cpSync(join(root, DOCS_SITE.from), join(root, DOCS_SITE.to), { recursive: true });
    console.log(`build: docs copied to ${DOCS_SITE.to}`);
  }
}
