/**
 * Every playground page exposes the engine it runs on as `globalThis.gmnet`: the browser
 * end-to-end tests (e2e/) drive it, and it is there for poking around in devtools.
 */
import * as engine from "@gmnet/engine";

declare global {
  /** The whole @gmnet/engine module, set by every playground page. */
  var gmnet: typeof engine;
}

globalThis.gmnet = engine;
