/** The environment variable through which global-setup.ts hands the preview server's URL to the test workers. */
export const BASE_URL_ENV = "GMNET_E2E_BASE_URL";
