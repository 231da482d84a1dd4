/**
 * The docs site's Markdown extensions (docs/.vitepress/markdown.ts) through the renderer VitePress
 * builds the site with, configured as docs/.vitepress/config.ts configures it: every function the
 * engine exports must be described by a table row of docs/*.md (the API reference links there, and
 * the site's build fails without one), rows anchor their functions, and the files' GitHub-style
 * links become links between the site's pages.
 */
import { createMarkdownRenderer } from "vitepress";
import { describe, expect, it } from "vitest";
import config, { functions, pages } from "../config.js";
import { FAMILIES, REPO, familyOf, whereDescribed } from "../markdown.js";

const md = await createMarkdownRenderer(REPO, config.markdown, "/docs/");

/** Renders Markdown as the site renders the page `repoPath` (docs/ERRORS.md is the site's ERRORS.md). */
function render(source: string, repoPath: string): string {
  return md.render(source, { path: `${REPO}/${pages.get(repoPath) ?? repoPath}`, realPath: `${REPO}/${repoPath}`, cleanUrls: true });
}

describe("the engine's functions in docs/*.md", () => {
  it("describes every function the engine exports in a table row", () => {
    expect(functions.length).toBeGreaterThan(100);
    expect(whereDescribed(md, functions, pages).undocumented, "functions without a row (`name(arguments)` | returns | notes) in docs/*.md").toEqual([]);
  });

  it("puts every function in a family of the API reference", () => {
    expect(functions.filter((name) => familyOf(name) === undefined)).toEqual([]);
    for (const family of FAMILIES) expect(pages.has(family.page), family.page).toBe(true);
  });
});

describe("function anchors", () => {
  const table = [
    "## Functions",
    "",
    "| function | returns | notes |",
    "|---|---|---|",
    "| `buffer_get_size` / `_type` / `_used_size` | number | sizes |",
    "| `network_connect_raw(socket, url, port)` / `_raw_async` | 0, −1 | raw |",
    "| `network_send_packet(socket, buffer, size)` | size | `network_connect` is named here too |",
    "| `http_request(url, method, headers, body)` | request id | |",
    "",
    "| constant | value |",
    "|---|---:|",
    "| `network_socket_tcp` | 0 |",
    "",
    "### `http_request`",
  ].join("\n");

  it("anchors each function a row's first cell names, abbreviations included, at its code span", () => {
    const html = render(table, "docs/NETWORK.md");
    for (const name of ["buffer_get_size", "buffer_get_type", "buffer_get_used_size", "network_connect_raw", "network_connect_raw_async", "network_send_packet"]) {
      expect(html.match(new RegExp(`<code id="${name}">`, "g")), name).toHaveLength(1);
    }
    expect(html).toContain('<code id="network_send_packet">network_send_packet(socket, buffer, size)</code>');
    // A name in the notes, a constant, and a heading named like the function (its own anchor) get none.
    expect(html).not.toContain('id="network_connect"');
    expect(html).not.toContain('id="network_socket_tcp"');
    expect(html.match(/id="http_request"/g)).toHaveLength(1);
    expect(html).toContain('<h3 id="http_request"');
  });

  it("gives the API reference the row's call, returns and section", () => {
    const { rows } = whereDescribed(md, ["network_send_packet"], pages);
    expect(rows.get("network_send_packet")).toMatchObject({ page: "docs/NETWORK.md", row: { signature: "network_send_packet(socket, buffer, size)", section: { text: "Functions", id: "functions" } } });
  });
});

describe("links", () => {
  it("turns links between the files into links between the pages, anchors kept", () => {
    const html = render("[a](../PROTOCOL.md#10-error-codes) [b](NETWORK.md#dropped-connections) [c](#here) [d](https://example.com/x.md)", "docs/ERRORS.md");
    expect(html).toContain('href="./PROTOCOL#10-error-codes"');
    expect(html).toContain('href="./NETWORK#dropped-connections"');
    expect(html).toContain('href="#here"');
    expect(html).toContain('href="https://example.com/x.md"');
    // From PROTOCOL.md, at the repository's root, to a docs page.
    expect(render("[n](docs/NETWORK.md)", "PROTOCOL.md")).toContain('href="./NETWORK"');
  });

  it("keeps a link to a source file as text, since the site has no copy of it", () => {
    const html = render("[`constants.ts`](packages/protocol/src/constants.ts)", "PROTOCOL.md");
    expect(html).toContain('<span class="repo-path" title="packages/protocol/src/constants.ts in the gmnet repository"><code>constants.ts</code></span>');
    expect(html).not.toContain("<a");
  });

  it("gives headings GitHub's anchors, which the files' own links use", () => {
    expect(render("## 7. Session: hello, heartbeat, drain", "PROTOCOL.md")).toContain('id="7-session-hello-heartbeat-drain"');
    expect(render("## The `ev_async_web` event", "docs/HTTP.md")).toContain('id="the-ev_async_web-event"');
  });
});
