/** `npm run build -w @gmnet/gamemaker`: dist/gmnet.js (the extension) and dist/cli.js (the command). */
import { buildCli, buildExtension } from "./build.js";

console.log(`built ${await buildExtension()}`);
console.log(`built ${await buildCli()}`);
