/** Side-effect entry: `import "@gmnet/engine/globals"` installs every function and constant on globalThis. */
import { installGlobals } from "./index.js";

installGlobals();
