/** The environment variable through which global-setup.ts hands the server's URL (pages, /ws and /api at one origin) to the test workers. */
export const BASE_URL_ENV = "GMNET_E2E_BASE_URL";
