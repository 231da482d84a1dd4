// `npm run dev`: the playground from Vite's dev server (hot reload from the sources) in front of the
// signaling server (embedded SQLite under ./data). Vite proxies the server's endpoints (/ws,
// /healthz, /metrics, /api), so a page reaches the server at its own origin, as under `npm start`
// where the server itself serves the built playground. The docs site comes from VitePress's dev
// server (live from docs/*.md and PROTOCOL.md), proxied at /docs/ as `npm start` serves it there.
// PORT (default 8080) is the server's port; the page is at the URL Vite prints.
import { createServer as createNetServer } from "node:net";
import { createServer as createGmnetServer } from "@gmnet/signaling-server";
import { createServer as createVite } from "vite";
import { createServer as createDocs } from "vitepress";

const serverPort = Number(process.env.PORT ?? 8080);
const gmnet = createGmnetServer({ port: serverPort, host: "127.0.0.1", logLevel: process.env.GMNET_LOG_LEVEL ?? "info" });
await gmnet.ready;

const target = `http://127.0.0.1:${gmnet.address().port}`;
// On a free port the OS picks (so the playground keeps Vite's usual one); its pages and their hot
// reload (a WebSocket at /docs/) reach the browser through the playground's proxy.
const docs = await createDocs(new URL("../docs", import.meta.url).pathname, { host: "127.0.0.1", port: await freePort(), strictPort: true });
await docs.listen();
const docsTarget = `http://127.0.0.1:${docs.httpServer.address().port}`;
const vite = await createVite({
  configFile: new URL("../vite.config.ts", import.meta.url).pathname,
  server: {
    proxy: {
      "/ws": { target, ws: true },
      "/healthz": target,
      "/metrics": target,
      "/api": target,
      "^/docs(/|$)": { target: docsTarget, ws: true },
    },
  },
});
await vite.listen();
vite.printUrls();
console.log(`  ➜  gmnet server: ${target} (WebSocket ${gmnet.address().wsUrl})`);
console.log(`  ➜  docs: /docs/ (VitePress at ${docsTarget}/docs/)`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([vite.close(), docs.close(), gmnet.close()]);
    process.exit(0);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer().once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
