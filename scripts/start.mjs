// `npm start` (after scripts/build.mjs, which builds what changed): the signaling server alone,
// serving the built playground (playground/dist, the docs site in it at /docs/) beside its
// WebSocket (/ws), REST API (/api), /healthz and /metrics, so one URL is all there is. Identities
// live in embedded SQLite under ./data. PORT (default 8080) picks the port and GMNET_HOST the
// interface (default 127.0.0.1: this machine only); every other gmnet-server flag (npm start --
// --tick-rate 30) and GMNET_* variable works too: see gmnet-server --help.
import { fileURLToPath } from "node:url";
import { ConfigError, configFromArgs, createServer, onStopSignals } from "@gmnet/signaling-server";

const playground = fileURLToPath(new URL("../playground/dist", import.meta.url));

let server;
try {
  // Defaults of this command, under whatever the environment and the arguments say.
  const env = { GMNET_HOST: "127.0.0.1", GMNET_STATIC_DIR: playground, ...process.env };
  server = createServer(configFromArgs(process.argv.slice(2), env));
  await server.ready;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`gmnet: cannot start: ${message}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}

console.log(`gmnet: playground, docs (/docs/), WebSocket (/ws) and REST API (/api) at ${server.address().url}`);
if (server.config.mcpTokens.length > 0) console.log(`gmnet: MCP endpoint for LLM agents at ${server.address().url}/mcp (docs/MCP.md)`);

// The server drains on the first signal (clients are told to reconnect); a second one exits at once.
onStopSignals({
  drain() {
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(`gmnet: error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  },
  exitNow() {
    process.exit(1);
  },
});
