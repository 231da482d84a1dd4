/**
 * The docs site: docs/*.md and PROTOCOL.md rendered by VitePress, served by gmnet-server at /docs/
 * beside the playground. scripts/build.mjs builds it (scripts/build-docs.mjs) into
 * docs/.vitepress/dist and copies it to playground/dist/docs; `npm run dev` serves it live.
 *
 * srcDir is the repository, so PROTOCOL.md stays where it is; `rewrites` put every page at the top
 * of the site (docs/NETWORK.md → /docs/NETWORK), and markdown.ts keeps the files' GitHub-style
 * links working. Clean URLs: /docs/NETWORK is the page, /docs/NETWORK.html too.
 */
import { fileURLToPath } from "node:url";
import { type DefaultTheme, defineConfig } from "vitepress";
import { defaultEngine } from "../../packages/engine/src/index.js";
import { REPO, apiReference, functionAnchors, githubSlug, otherMarkdown, pageTitle, sitePages, siteLinks } from "./markdown.js";

/** Repository path of each page → its path in the site. */
export const pages = sitePages();
/** Every function the engine exports, as installGlobals() puts them on a page. */
export const functions = Object.entries(defaultEngine)
  .filter(([, value]) => typeof value === "function")
  .map(([name]) => name);

/** The sidebar's order and labels; a docs page not listed here follows them under its own title. */
const GUIDES: Array<[string, string]> = [
  ["docs/index.md", "Overview"],
  ["docs/PORTING.md", "Porting from GameMaker"],
  ["docs/ASYNC_EVENTS.md", "Async events"],
  ["docs/MULTI_NODE.md", "Running several nodes"],
];
const REFERENCE: Array<[string, string]> = [
  ["docs/NETWORK.md", "Network: <code>network_*</code>"],
  ["docs/BUFFERS.md", "Buffers: <code>buffer_*</code>"],
  ["docs/HTTP.md", "HTTP: <code>http_*</code>"],
  ["docs/MASTER.md", "Master services: <code>master_*</code>"],
  ["docs/MCP.md", "MCP tools for LLM agents"],
  ["docs/GML.md", "GML helpers: <code>ds_*</code>, <code>show_*</code>"],
  ["docs/ERRORS.md", "Errors and codes"],
  ["docs/api.md", "API reference: every function"],
  ["PROTOCOL.md", "Wire protocol"],
];

const link = (repoPath: string): string => `/${(pages.get(repoPath) ?? repoPath).replace(/\.md$/, "").replace(/^index$/, "")}`;
const items = (list: Array<[string, string]>): DefaultTheme.SidebarItem[] =>
  list.filter(([path]) => pages.has(path)).map(([path, text]) => ({ text, link: link(path) }));
const listed = new Set([...GUIDES, ...REFERENCE].map(([path]) => path));
const more = [...pages.keys()].filter((path) => !listed.has(path)).map((path): [string, string] => [path, pageTitle(path)]);

export default defineConfig({
  title: "gmnet docs",
  description: "GameMaker-style buffer_*, network_*, http_* and master_* functions for browser games: guides, reference and wire protocol.",
  lang: "en",
  base: "/docs/",
  // No icon, as the playground's pages: without this line browsers ask for /favicon.ico, a 404.
  head: [["link", { rel: "icon", href: "data:," }]],
  srcDir: REPO,
  srcExclude: otherMarkdown(pages),
  rewrites: Object.fromEntries([...pages].filter(([from, to]) => from !== to)),
  cleanUrls: true,
  // Outside the repository's tracked files and outside the docs step's inputs (scripts/build.mjs).
  cacheDir: fileURLToPath(new URL("../../node_modules/.cache/vitepress", import.meta.url)),
  lastUpdated: false,
  // Vite's root is srcDir, the repository, whose vite.config.ts is the playground's: not this site's.
  vite: { configFile: false },
  markdown: {
    anchor: { slugify: githubSlug },
    // GML samples: close enough to JavaScript for the colours.
    languageAlias: { gml: "js" },
    config(md) {
      siteLinks(md, pages);
      functionAnchors(md, new Set(functions));
      apiReference(md, functions, pages);
    },
  },
  themeConfig: {
    nav: [
      { text: "Guides", link: "/PORTING" },
      { text: "API reference", link: "/api" },
      { text: "Protocol", link: "/PROTOCOL" },
      // The playground is the server's root, outside the site: a plain link, not the site's router.
      { text: "Playground", link: "../", target: "_self" },
    ],
    sidebar: [
      { text: "Guides", items: items(GUIDES) },
      { text: "Reference", items: items(REFERENCE) },
      ...(more.length > 0 ? [{ text: "More", items: items(more) }] : []),
    ],
    search: { provider: "local" },
    outline: { level: [2, 3] },
    footer: { message: "gmnet: GameMaker-style networking for browser games." },
  },
});
