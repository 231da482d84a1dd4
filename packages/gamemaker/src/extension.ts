/**
 * The extension's script (bundled as one IIFE into dist/gmnet.js): the HTML5 runner loads it like
 * any extension file, in the page's global scope, and calls its functions by their external names.
 * It builds one engine and puts every gmnet_* function on the global object.
 *
 * A page (or a test) may set `gmnet_engine_options` (createEngine's options, e.g. a WebSocket or
 * WebRTC implementation) on the global object before the script runs.
 */
import type { EngineOptions } from "@gmnet/engine";
import { createGameMakerExtension } from "./glue.js";

// The browser build of simple-peer's byte helpers calls Uint8Array.prototype.toHex (Baseline
// 2025); browsers from before it (and Node 20) lack it, and WebRTC links would fail to start.
const uint8 = Uint8Array.prototype as Uint8Array & { toHex?: () => string };
if (typeof uint8.toHex !== "function") {
  Object.defineProperty(Uint8Array.prototype, "toHex", {
    configurable: true,
    writable: true,
    value(this: Uint8Array): string {
      let hex = "";
      for (const byte of this) hex += byte.toString(16).padStart(2, "0");
      return hex;
    },
  });
}

const scope = globalThis as typeof globalThis & { gmnet_engine_options?: EngineOptions };
const extension = createGameMakerExtension({ scope, engineOptions: scope.gmnet_engine_options });
Object.assign(scope, extension.functions);
