/**
 * "This tab": the engine's connection to the signaling server, its virtual IP and host name, and
 * the sockets the running script created with their state (runner/socket-tracker.ts) and traffic
 * (network_get_stats(socket)), plus the engine's totals (network_get_stats(-1)). Refreshed four
 * times a second from the tick. A socket that closed or failed fades out and leaves the list a few
 * seconds later (or when the next run starts). The rtt column is the socket's own round trip only
 * where it has one (peer-to-peer UDP); otherwise it says "server" (socket-view.ts).
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
import { el, formatBytes, setText, showErrorIn, throttled } from "./format.js";
import { RouteTracker, rttCell, stateCell } from "./socket-view.js";
import "./panels.css";

const REFRESH_MS = 250;

/** The cells of one socket row the refresh rewrites. */
interface SocketRow {
  readonly row: HTMLTableRowElement;
  readonly state: HTMLTableCellElement;
  readonly route: RouteTracker;
  /** Whether the traffic cells were filled once (a closed socket keeps its last numbers). */
  filled: boolean;
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
    ["kind", "network_socket_* kind (hover: server or socket)"],
    ["port", "listening or bound port"],
    ["state", "created, connecting, open (listening: a server), closed or failed — hover for why"],
    ["rtt", "the socket's own round trip (WebRTC, for peer-to-peer UDP); \"server\" when its traffic is relayed and only the signaling server's round trip is known"],
    ["sent", "payload bytes sent (hover a cell for the packet count)"],
    ["recv", "payload bytes received (hover a cell for the packet count)"],
    ["p2p/rly", "datagrams sent + received: peer to peer / through the relay"],
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
    const state = cell("", "socket-state");
    const sent = cell("", "socket-sent");
    const received = cell("", "socket-received");
    const path = cell("", "socket-path");
    const rtt = cell("", "socket-rtt");
    const row = el(
      "tr",
      { testId: "socket-row" },
      cell(String(socket.id), "socket-id"),
      Object.assign(cell(socket.kind, "socket-kind"), { title: socket.role === "server" ? `${socket.kind} server (network_create_server)` : `${socket.kind} socket` }),
      cell(socket.port === undefined ? "—" : String(socket.port), "socket-port"),
      state,
      rtt,
      sent,
      received,
      path,
    );
    row.dataset.socketId = String(socket.id);
    // The role (server or socket) is the row's: an open server's state reads "listening".
    row.dataset.role = socket.role;
    return { row, state, sent, received, path, rtt, route: new RouteTracker(), filled: false };
  };

  const showState = (row: SocketRow, socket: TrackedSocket): void => {
    const { text, title } = stateCell(socket);
    setText(row.state, text);
    if (row.state.title !== title) row.state.title = title;
    if (row.row.dataset.state !== socket.state) row.row.dataset.state = socket.state;
  };

  const showStats = (row: SocketRow, socket: TrackedSocket, stats: NetworkStats | undefined): void => {
    if (stats === undefined) {
      // Destroyed: a closed socket keeps the numbers it last had.
      if (!row.filled) for (const cell of [row.sent, row.received, row.path, row.rtt]) setText(cell, "—");
      return;
    }
    row.filled = true;
    setText(row.sent, formatBytes(stats.bytes_sent));
    setText(row.received, formatBytes(stats.bytes_received));
    row.sent.title = `${stats.bytes_sent} bytes in ${stats.packets_sent} packets`;
    row.received.title = `${stats.bytes_received} bytes in ${stats.packets_received} packets`;
    setText(row.path, `${stats.p2p_packets_sent + stats.p2p_packets_received}/${stats.relay_packets_sent + stats.relay_packets_received}`);
    const rtt = rttCell(socket.kind, stats.rtt, row.route.update(stats));
    setText(row.rtt, rtt.text);
    if (row.rtt.title !== rtt.title) row.rtt.title = rtt.title;
    row.rtt.dataset.rtt = rtt.text === "server" || rtt.text === "—" ? rtt.text : String(stats.rtt);
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
      for (const socket of sockets) {
        const row = rows.get(socket.id)!;
        showState(row, socket);
        showStats(row, socket, network_get_stats(socket.id));
      }
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
