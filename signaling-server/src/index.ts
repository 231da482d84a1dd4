export { createServer, type GmnetServer, type ServerOptions } from "./server.js";
export { type ServerConfig, defaultConfig, configFromArgs, ConfigError } from "./config.js";
export { SAME_KEYPRESS_MS, onStopSignals } from "./stop-signals.js";
