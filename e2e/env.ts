/** The environment variable through which global-setup.ts hands the server's URL (pages, /ws and /api at one origin) to the test workers. */
export const BASE_URL_ENV = "GMNET_E2E_BASE_URL";

/** The folder with the production build global-setup.ts made, for tests that start a server of their own (to restart it). */
export const STATIC_DIR_ENV = "GMNET_E2E_STATIC_DIR";
