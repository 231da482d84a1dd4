// `npm run dev`: the playground from Vite's dev server (hot reload from the sources) in front of the
// signaling server (embedded SQLite under ./data). Vite proxies the server's endpoints (/ws,
// /healthz, /metrics, /api), so a page reaches the server at its own origin, as under `npm start`
// where the server itself serves the built playground. PORT (default 8080) is the server's port;
// the page is at the URL Vite prints.
import { createServer as createGmnetServer } from "@gmnet/signaling-server";
import { createServer as createVite } from "vite";

const serverPort = Number(process.env.PORT ?? 8080);
const gmnet = createGmnetServer({ port: serverPort, host: "127.0.0.1", logLevel: process.env.GMNET_LOG_LEVEL ?? "info" });
await gmnet.ready;

const target = `http://127.0.0.1:${gmnet.address().port}`;
const vite = await createVite({
  configFile: new URL("../vite.config.ts", import.meta.url).pathname,
  server: {
    proxy: {
      "/ws": { target, ws: true },
      "/healthz": target,
      "/metrics": target,
      "/api": target,
    },
  },
});
await vite.listen();
vite.printUrls();
console.log(`  ➜  gmnet server: ${target} (WebSocket ${gmnet.address().wsUrl})`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([vite.close(), gmnet.close()]);
    process.exit(0);
  });
}
