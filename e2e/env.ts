/** The environment variable through which global-setup.ts hands the server's URL (pages, /ws and /api at one origin) to the test workers. */
export const BASE_URL_ENV = "GMNET_E2E_BASE_URL";

/**
 * The MCP token global-setup.ts gives the server for the app key the playground and demo pages use
 * (MCP_APP_KEY), random per run: tests call the pages' MCP tools at /mcp with it as a Bearer token.
 */
export const MCP_TOKEN_ENV = "GMNET_E2E_MCP_TOKEN";

/** The app key of the playground and demo pages: the engine's default. */
export const MCP_APP_KEY = "gmnet";

/** The folder with the production build global-setup.ts made, for tests that start a server of their own (to restart it). */
export const STATIC_DIR_ENV = "GMNET_E2E_STATIC_DIR";
