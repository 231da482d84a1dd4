#!/usr/bin/env node
// The `gmnet` command: runs the built CLI (dist/cli.js, next to the built extension dist/gmnet.js).
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("gmnet: E_EXTENSION_NOT_BUILT: run `npm run build -w @gmnet/gamemaker` first");
  process.exit(5);
}
const { runCli } = await import(cli.href);
process.exitCode = runCli(process.argv.slice(2));
