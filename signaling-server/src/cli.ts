#!/usr/bin/env node
/**
 * `gmnet-server`: the signaling server from the command line. Flags override environment
 * variables, which override defaults (see --help). SIGTERM or SIGINT drains: every client gets
 * DRAIN and close code 4000, the server stops accepting, and the process exits 0.
 */
import { ConfigError, configFromArgs, usage } from "./config.js";
import { createServer } from "./server.js";
import { onStopSignals } from "./stop-signals.js";

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(usage());
  process.exit(0);
}

let server;
try {
  server = createServer(configFromArgs(args, process.env));
  await server.ready;
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`gmnet-server: ${error.message}\nRun gmnet-server --help for the list of options.\n`);
    process.exit(2);
  }
  process.stderr.write(`gmnet-server: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const running = server;
onStopSignals({
  drain() {
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`gmnet-server: error while stopping: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  },
  exitNow(signal) {
    // A second signal while draining: give up on the grace period.
    process.stderr.write(`gmnet-server: ${signal} again, exiting without waiting for clients\n`);
    process.exit(1);
  },
});
