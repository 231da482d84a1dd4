/**
 * The Markdown side of the docs site: which files are its pages, where they land, and three
 * markdown-it extensions.
 *
 * - The pages are docs/*.md and the repository's PROTOCOL.md, all at the top of the site
 *   (/docs/NETWORK, /docs/PROTOCOL). The files keep the links GitHub resolves (`NETWORK.md#…`,
 *   `../PROTOCOL.md`); `siteLinks` rewrites each one to the page's place in the site, and turns a
 *   link to a source file (PROTOCOL.md's `packages/…/constants.ts`) into plain text, since the
 *   site has no copy of the sources.
 * - `functionAnchors` gives every engine function its own anchor where the docs describe it: the
 *   code span naming it in the first column of a table gets `id="<function name>"`, so
 *   /docs/NETWORK#network_send_packet opens at that table row. A cell naming several functions
 *   GameMaker-style (`buffer_get_size` / `_type` / `_used_size`) anchors each of them.
 * - `apiReference` fills docs/api.md from the engine's exports: every function, grouped by
 *   family, linked to its anchor. A function no docs table describes fails the build.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { StateCore, Token } from "markdown-it";
import type { MarkdownRenderer } from "vitepress";

/** The repository, which is the site's srcDir. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

const toPosix = (path: string): string => path.split(sep).join("/");

/** Repository path of each page → its path in the site: docs/NETWORK.md → NETWORK.md, PROTOCOL.md stays. */
export function sitePages(): Map<string, string> {
  const pages = new Map<string, string>();
  for (const name of readdirSync(`${REPO}/docs`).filter((file) => file.endsWith(".md")).sort()) pages.set(`docs/${name}`, name);
  pages.set("PROTOCOL.md", "PROTOCOL.md");
  return pages;
}

/** Every other Markdown file of the repository (README.md, package READMEs …), which the site leaves out. */
export function otherMarkdown(pages: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(`${REPO}/${dir}`, { withFileTypes: true })) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory() && !["node_modules", "dist", "data", ".git"].includes(entry.name)) walk(path);
      else if (entry.isFile() && entry.name.endsWith(".md") && !pages.has(path)) found.push(path);
    }
  };
  walk("");
  return found;
}

/** The title of a page: its first `# ` heading, without Markdown code marks. */
export function pageTitle(repoPath: string): string {
  const heading = /^# (.+)$/m.exec(readFileSync(`${REPO}/${repoPath}`, "utf8"))?.[1] ?? repoPath;
  return heading.replaceAll("`", "");
}

/** GitHub's heading anchors (`## 1. Transport` → `1-transport`), so the links written for GitHub work here too. */
export function githubSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The families of the API reference, in its order, with the page that documents each. */
export const FAMILIES: ReadonlyArray<{ prefix: string; page: string }> = [
  { prefix: "buffer_", page: "docs/BUFFERS.md" },
  { prefix: "network_", page: "docs/NETWORK.md" },
  { prefix: "http_", page: "docs/HTTP.md" },
  { prefix: "master_", page: "docs/MASTER.md" },
  { prefix: "ds_", page: "docs/GML.md" },
  { prefix: "show_", page: "docs/GML.md" },
  { prefix: "async_event_", page: "docs/ASYNC_EVENTS.md" },
];

/** Where a page describes a function: a row of one of its tables. */
export interface FunctionRow {
  /** The code span naming the function (`network_send_packet(socket, buffer, size)`), which gets the anchor. */
  code: Token;
  /** The call as the row writes it, when it writes one. */
  signature: string | undefined;
  /** The row's "returns" cell (Markdown), when its table has that column. */
  returns: string | undefined;
  /** The heading the table is under. */
  section: { text: string; id: string | undefined };
}

interface Env {
  path?: string;
  realPath?: string;
  gmnetFunctions?: Map<string, FunctionRow>;
}

/** The page being rendered, as a repository path (the file itself, not where the site puts it). */
function sourceOf(env: Env): string | undefined {
  const file = env.realPath ?? env.path;
  return file === undefined ? undefined : toPosix(relative(REPO, file));
}

const inlineText = (token: Token | undefined): string =>
  (token?.children ?? [])
    .filter((child) => child.type === "text" || child.type === "code_inline")
    .map((child) => child.content)
    .join("");

/**
 * The functions of `known` that the tables of a parsed page describe. A table row describes the
 * functions its first cell names in code: `name(…)`, `name`, or, after a name, a GameMaker-style
 * abbreviation (`_raw_async` after `network_connect_raw`). Where a page names a function in several
 * rows, the first row that writes its call wins, else the first row.
 */
export function describedFunctions(tokens: Token[], known: ReadonlySet<string>): Map<string, FunctionRow> {
  const rows = new Map<string, FunctionRow>();
  let section: FunctionRow["section"] = { text: "", id: undefined };
  let header: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type === "heading_open") section = { text: inlineText(tokens[i + 1]).trim(), id: token.attrGet("id") ?? undefined };
    if (token.type === "thead_open") header = [];
    if (token.type === "th_open") header.push(inlineText(tokens[i + 1]).trim().toLowerCase());
    if (token.type !== "tr_open" || tokens[i - 1]?.type === "thead_open") continue;
    // The row's cells: td_open, inline, td_close each.
    const cells: Token[] = [];
    for (let j = i + 1; j < tokens.length && tokens[j]!.type !== "tr_close"; j++) if (tokens[j]!.type === "inline" && tokens[j - 1]?.type === "td_open") cells.push(tokens[j]!);
    const returnsColumn = header.indexOf("returns");
    const returns = returnsColumn > 0 ? cells[returnsColumn]?.content.trim() : undefined;
    let base: string | undefined;
    for (const code of (cells[0]?.children ?? []).filter((child) => child.type === "code_inline")) {
      let name = /^[a-z][a-z0-9_]*/.exec(code.content)?.[0];
      if (name !== undefined && known.has(name)) base = name;
      else name = base === undefined ? undefined : expand(base, /^_[a-z0-9_]+/.exec(code.content)?.[0], known);
      if (name === undefined || !known.has(name)) continue;
      const signature = code.content.startsWith(`${name}(`) ? code.content : undefined;
      const earlier = rows.get(name);
      if (earlier === undefined || (earlier.signature === undefined && signature !== undefined)) rows.set(name, { code, signature, returns: returns || undefined, section });
    }
  }
  return rows;
}

/** `network_connect_raw` + `_raw_async` → `network_connect_raw_async`: the abbreviation replaces the longest tail of `base` that gives a known name. */
function expand(base: string, abbreviation: string | undefined, known: ReadonlySet<string>): string | undefined {
  if (abbreviation === undefined) return undefined;
  const parts = base.split("_");
  for (let keep = parts.length; keep >= 1; keep--) {
    const candidate = parts.slice(0, keep).join("_") + abbreviation;
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

/** Anchors every function a page's tables describe (see describedFunctions), and hands the rows to env.gmnetFunctions. */
export function functionAnchors(md: MarkdownRenderer, known: ReadonlySet<string>): void {
  // Pushed after markdown-it-anchor's rule, so the headings have their ids: a heading named like
  // the function (HTTP.md's "`http_request`") keeps the id, and is the anchor.
  md.core.ruler.push("gmnet_function_anchors", (state: StateCore) => {
    const headings = new Set(state.tokens.filter((token) => token.type === "heading_open").map((token) => token.attrGet("id")));
    const rows = describedFunctions(state.tokens, known);
    for (const [name, row] of rows) if (!headings.has(name)) row.code.attrSet("id", name);
    (state.env as Env).gmnetFunctions = rows;
  });
}

/** See the module's comment: links between the files become links between the pages. */
export function siteLinks(md: MarkdownRenderer, pages: ReadonlyMap<string, string>): void {
  md.core.ruler.push("gmnet_site_links", (state: StateCore) => {
    const source = sourceOf(state.env as Env);
    if (source === undefined) return;
    const here = posix.dirname(pages.get(source) ?? source);
    for (const inline of state.tokens.filter((token) => token.type === "inline")) {
      // Links do not nest: each link_close closes the last link_open.
      let open: Token | undefined;
      for (const token of inline.children ?? []) {
        if (token.type === "link_close") token.tag = open?.tag ?? token.tag;
        if (token.type !== "link_open") continue;
        open = token;
        const href = token.attrGet("href") ?? "";
        // Anchors on the same page, absolute paths and other sites stay as they are.
        if (href === "" || href.startsWith("#") || href.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
        const [path = "", hash = ""] = href.split(/(?=#)/);
        const target = posix.normalize(posix.join(posix.dirname(source), decodeURI(path)));
        const page = pages.get(target);
        if (page !== undefined) {
          token.attrSet("href", encodeURI(posix.relative(here, page)) + hash);
        } else if (!target.startsWith("docs/") && existsSync(`${REPO}/${target}`)) {
          // A source file: the site has no copy of it, so the link text stays, as text.
          token.tag = "span";
          token.attrs = [
            ["class", "repo-path"],
            ["title", `${target} in the gmnet repository`],
          ];
        }
      }
    }
  });
}

/** The line of docs/api.md that the generated reference replaces. */
export const API_MARKER = "<!-- gmnet:api-reference -->";

/**
 * Fills docs/api.md: every function of `functions` (the engine's), grouped by family, linked to
 * the table row of the docs that describes it.
 */
export function apiReference(md: MarkdownRenderer, functions: readonly string[], pages: ReadonlyMap<string, string>): void {
  md.core.ruler.before("normalize", "gmnet_api_reference", (state: StateCore) => {
    if (sourceOf(state.env as Env) !== "docs/api.md" || !state.src.includes(API_MARKER)) return;
    state.src = state.src.replace(API_MARKER, () => referenceMarkdown(md, functions, pages));
  });
}

/** The family a function belongs to, or undefined for a name FAMILIES has no prefix for. */
export const familyOf = (name: string): (typeof FAMILIES)[number] | undefined => FAMILIES.find((family) => name.startsWith(family.prefix));

/**
 * Where the docs describe each of `functions`: the family's own page if it does, else the first
 * page that does. Parses the pages with `md` itself, so the rows (and anchors) are the ones
 * functionAnchors finds when the site renders them. `undocumented`: the functions no page's table
 * describes.
 */
export function whereDescribed(
  md: MarkdownRenderer,
  functions: readonly string[],
  pages: ReadonlyMap<string, string>,
): { rows: Map<string, { page: string; row: FunctionRow }>; undocumented: string[] } {
  const described = new Map<string, Map<string, FunctionRow>>();
  for (const page of pages.keys()) {
    if (page === "docs/api.md") continue;
    const env: Env = { path: `${REPO}/${page}`, realPath: `${REPO}/${page}` };
    md.parse(readFileSync(`${REPO}/${page}`, "utf8"), env);
    described.set(page, env.gmnetFunctions ?? new Map());
  }
  const rows = new Map<string, { page: string; row: FunctionRow }>();
  const undocumented: string[] = [];
  for (const name of functions) {
    const home = familyOf(name)?.page;
    const order = [...described.keys()].sort((a, b) => Number(b === home) - Number(a === home));
    const page = order.find((candidate) => described.get(candidate)?.has(name));
    const row = page === undefined ? undefined : described.get(page)?.get(name);
    if (page === undefined || row === undefined) undocumented.push(name);
    else rows.set(name, { page, row });
  }
  return { rows, undocumented };
}

function referenceMarkdown(md: MarkdownRenderer, functions: readonly string[], pages: ReadonlyMap<string, string>): string {
  const unfamiliar = functions.filter((name) => familyOf(name) === undefined);
  if (unfamiliar.length > 0) throw new Error(`docs: no family in docs/.vitepress/markdown.ts FAMILIES for ${unfamiliar.join(", ")}`);
  const { rows, undocumented } = whereDescribed(md, functions, pages);
  if (undocumented.length > 0) {
    throw new Error(`docs: no table of docs/*.md describes ${undocumented.join(", ")}: add a row (\`name(arguments)\` | returns | notes) to the family's page`);
  }
  const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines: string[] = [];
  for (const family of FAMILIES) {
    const names = functions.filter((name) => familyOf(name) === family);
    if (names.length === 0) continue;
    lines.push(`## \`${family.prefix}*\``, "", `${names.length} functions, described in [${pageTitle(family.page)}](${posix.basename(family.page)}).`, "");
    lines.push("| function | returns | section |", "|---|---|---|");
    for (const name of names) {
      const { page, row } = rows.get(name)!;
      const file = posix.relative("docs", page);
      // The family's page is named above its table: a row names only the section, or another page.
      const where = page === family.page ? row.section.text || pageTitle(page) : `${pageTitle(page)} › ${row.section.text}`;
      const section = row.section.id === undefined ? cell(where) : `[${cell(where)}](${file}#${row.section.id})`;
      lines.push(`| [\`${cell(row.signature ?? name)}\`](${file}#${name}) | ${cell(row.returns ?? "")} | ${section} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
