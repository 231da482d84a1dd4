#!/usr/bin/env node
// The `gmnet-server` command. npm links package bins before `prepare` builds dist/, and skips a
// bin whose file does not exist yet, so the command is this stub (always present), which runs
// the built CLI.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("gmnet-server: the server is not built; run `npm ci` (or `npm run build --workspace @gmnet/signaling-server`) first\n");
  process.exit(1);
}
await import(cli.href);
