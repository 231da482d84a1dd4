/**
 * "This tab": the engine's connection to the signaling server, its virtual IP and host name, and
 * the sockets the running script created with their traffic (network_get_stats(socket)), plus the
 * engine's totals (network_get_stats(-1)). Refreshed four times a second from the tick.
 *
 * The engine opens its signaling connection on first use (docs/NETWORK.md), so until the script
 * creates a socket or a server the panel says so instead of showing an address.
 */
import {
  type NetworkStats,
  network_config_connected,
  network_config_hostname,
  network_config_virtual_ip,
  network_get_config,
  network_get_stats,
} from "@gmnet/engine";
import type { MountPanel, TrackedSocket } from "../panel-host.js";
import { el, formatBytes, formatRtt, setText, showErrorIn, throttled } from "./format.js";
import "./panels.css";

const REFRESH_MS = 250;

/** The cells of one socket row the refresh rewrites. */
interface SocketRow {
  readonly row: HTMLTableRowElement;
  readonly sent: HTMLTableCellElement;
  readonly received: HTMLTableCellElement;
  readonly path: HTMLTableCellElement;
  readonly rtt: HTMLTableCellElement;
}

export const mountSockets: MountPanel = (container, host) => {
  container.classList.add("lp-panel", "lp-sockets");

  const state = el("span", { className: "lp-badge", testId: "connection-state" });
  const ip = el("code", { testId: "virtual-ip" });
  const hostname = el("code", { testId: "hostname" });
  const totals = el("span", { testId: "engine-totals" });
  const facts = el(
    "dl",
    { className: "lp-facts" },
    el("dt", { text: "Signaling" }),
    el("dd", {}, state),
    el("dt", { text: "Virtual IP" }),
    el("dd", {}, ip),
    el("dt", { text: "Host name" }),
    el("dd", {}, hostname),
    el("dt", { text: "All traffic" }),
    el("dd", {}, totals),
  );

  const empty = el("p", {
    className: "lp-empty",
    testId: "sockets-empty",
    text: "The script has no sockets. Create one with network_create_socket or network_create_server (the engine connects to the signaling server on first use).",
  });
  const body = el("tbody", { testId: "socket-rows" });
  const head = el("thead");
  const headRow = el("tr");
  for (const [label, title] of [
    ["id", "socket id"],
    ["kind", "network_socket_* kind"],
    ["role", "server or socket"],
    ["port", "listening or bound port"],
    ["sent", "payload bytes sent (hover a cell for the packet count)"],
    ["recv", "payload bytes received (hover a cell for the packet count)"],
    ["p2p/relay", "datagrams sent + received: peer to peer / through the relay"],
    ["rtt", "round trip (WebRTC for peer-to-peer UDP, else to the signaling server)"],
  ] as const) {
    headRow.append(el("th", { text: label, title }));
  }
  head.append(headRow);
  const table = el("table", { className: "lp-table", testId: "socket-table" }, head, body);
  const tableWrap = el("div", { className: "lp-table-wrap" }, table);
  const error = el("div", { className: "error-banner lp-panel-error", testId: "sockets-error" });
  error.hidden = true;
  container.append(facts, empty, tableWrap, error);

  const rows = new Map<number, SocketRow>();
  let shownIds = "";

  const makeRow = (socket: TrackedSocket): SocketRow => {
    const cell = (text: string, testId: string): HTMLTableCellElement => el("td", { text, testId });
    const sent = cell("", "socket-sent");
    const received = cell("", "socket-received");
    const path = cell("", "socket-path");
    const rtt = cell("", "socket-rtt");
    const row = el(
      "tr",
      { testId: "socket-row" },
      cell(String(socket.id), "socket-id"),
      cell(socket.kind, "socket-kind"),
      cell(socket.role, "socket-role"),
      cell(socket.port === undefined ? "—" : String(socket.port), "socket-port"),
      sent,
      received,
      path,
      rtt,
    );
    row.dataset.socketId = String(socket.id);
    return { row, sent, received, path, rtt };
  };

  const showStats = (row: SocketRow, stats: NetworkStats | undefined): void => {
    if (stats === undefined) {
      for (const cell of [row.sent, row.received, row.path, row.rtt]) setText(cell, "—");
      return;
    }
    setText(row.sent, formatBytes(stats.bytes_sent));
    setText(row.received, formatBytes(stats.bytes_received));
    row.sent.title = `${stats.bytes_sent} bytes in ${stats.packets_sent} packets`;
    row.received.title = `${stats.bytes_received} bytes in ${stats.packets_received} packets`;
    setText(row.path, `${stats.p2p_packets_sent + stats.p2p_packets_received} / ${stats.relay_packets_sent + stats.relay_packets_received}`);
    setText(row.rtt, formatRtt(stats.rtt));
    row.sent.dataset.bytes = String(stats.bytes_sent);
    row.received.dataset.bytes = String(stats.bytes_received);
  };

  const refresh = (): void => {
    try {
      const connected = network_get_config(network_config_connected) === 1;
      const address = String(network_get_config(network_config_virtual_ip) ?? "");
      const name = String(network_get_config(network_config_hostname) ?? "");
      setText(state, connected ? "connected" : address === "" ? "not connected yet" : "reconnecting…");
      state.dataset.connected = connected ? "1" : "0";
      state.classList.toggle("lp-badge-ok", connected);
      setText(ip, address === "" ? "—" : address);
      setText(hostname, name === "" ? "—" : name);
      const all = network_get_stats(-1);
      setText(totals, all === undefined ? "—" : `${formatBytes(all.bytes_sent)} sent, ${formatBytes(all.bytes_received)} received (signaling ${formatBytes(all.signaling_bytes_sent ?? 0)} / ${formatBytes(all.signaling_bytes_received ?? 0)})`);

      const sockets = host.sockets();
      const ids = sockets.map((socket) => socket.id).join(",");
      if (ids !== shownIds) {
        shownIds = ids;
        const keep = new Set(sockets.map((socket) => socket.id));
        for (const id of rows.keys()) if (!keep.has(id)) rows.delete(id);
        body.replaceChildren(
          ...sockets.map((socket) => {
            let row = rows.get(socket.id);
            if (row === undefined) rows.set(socket.id, (row = makeRow(socket)));
            return row.row;
          }),
        );
        empty.hidden = sockets.length > 0;
        tableWrap.hidden = sockets.length === 0;
      }
      for (const socket of sockets) showStats(rows.get(socket.id)!, network_get_stats(socket.id));
      showErrorIn(error, undefined);
    } catch (problem) {
      // A failing read is shown in the panel (once per distinct message), not thrown into the tick loop.
      showErrorIn(error, problem);
    }
  };

  tableWrap.hidden = true;
  refresh();
  host.onTick(throttled(REFRESH_MS, refresh));
};
