/**
 * Stats plots: the last minute of network_get_stats(-1), sampled once a second, as three uPlot
 * charts — RTT (ms), payload bytes per second sent and received, and datagrams per second peer
 * to peer vs through the relay (sent + received). The numbers come from stats-series.ts (pure);
 * this module only samples, draws and keeps the charts as wide as the sidebar.
 */
import { network_get_stats } from "@gmnet/engine";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { MountPanel } from "../panel-host.js";
import { el, formatBytes, formatBytesShort, formatNumber, formatRtt, setText, showErrorIn } from "./format.js";
import "./panels.css";
import { type StatsColumns, StatsSeries } from "./stats-series.js";

const SAMPLE_MS = 1000;
const WINDOW_S = 60;
const CHART_HEIGHT = 110;

interface ChartSpec {
  readonly title: string;
  readonly testId: string;
  readonly series: readonly { label: string; color: string; column: Exclude<keyof StatsColumns, "time"> }[];
  /** Legend and readout text for a value. */
  readonly formatValue: (value: number) => string;
  /** Y axis labels (short; the caption gives the unit). */
  readonly formatAxis: (value: number) => string;
}

/** A colour from the page's theme (CSS variables; canvases cannot use var() themselves). */
function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === "" ? fallback : value;
}

export const mountStatsPlots: MountPanel = (container, host) => {
  container.classList.add("lp-panel", "lp-stats");
  const accent = themeColor("--accent", "#5eead4");
  const accent2 = themeColor("--accent-2", "#a78bfa");
  const warn = themeColor("--warn", "#fbbf24");
  const muted = themeColor("--muted", "#8b93a7");
  const border = themeColor("--border", "#2a3040");

  const specs: ChartSpec[] = [
    { title: "RTT (ms)", testId: "plot-rtt", series: [{ label: "rtt ms", color: warn, column: "rtt" }], formatValue: (value) => `${formatNumber(value, 1)} ms`, formatAxis: (value) => formatNumber(value, 1) },
    {
      title: "Payload bytes per second",
      testId: "plot-bytes",
      series: [
        { label: "sent", color: accent, column: "bytesSentPerSecond" },
        { label: "received", color: accent2, column: "bytesReceivedPerSecond" },
      ],
      formatValue: (value) => `${formatBytes(value)}/s`,
      formatAxis: formatBytesShort,
    },
    {
      title: "Datagrams per second, P2P vs relay",
      testId: "plot-paths",
      series: [
        { label: "p2p", color: accent, column: "p2pPacketsPerSecond" },
        { label: "relay", color: warn, column: "relayPacketsPerSecond" },
      ],
      formatValue: (value) => `${formatNumber(value, 1)}/s`,
      formatAxis: (value) => formatNumber(value, 1),
    },
  ];

  // Latest values as text, for reading at a glance (and for the e2e tests).
  const readout = (label: string, testId: string): HTMLElement => {
    const value = el("span", { className: "lp-value", testId, text: "—" });
    readouts.append(el("span", { className: "lp-readout" }, el("span", { className: "lp-muted", text: `${label} ` }), value));
    return value;
  };
  const readouts = el("div", { className: "lp-readouts", testId: "stats-readouts" });
  const rttOut = readout("rtt", "stats-rtt");
  const sentOut = readout("sent", "stats-bytes-sent");
  const receivedOut = readout("recv", "stats-bytes-received");
  const p2pOut = readout("p2p", "stats-p2p");
  const relayOut = readout("relay", "stats-relay");
  const samplesOut = el("span", { className: "lp-muted", testId: "stats-samples", text: "0" });
  const error = el("div", { className: "error-banner lp-panel-error", testId: "stats-error" });
  error.hidden = true;
  container.append(readouts, error);

  const series = new StatsSeries(WINDOW_S * 1000);
  /** The panel's content width (uPlot's width is its canvas, so padding must not be counted). */
  const width = (): number => {
    const style = getComputedStyle(container);
    const inner = container.clientWidth - (parseFloat(style.paddingLeft) || 0) - (parseFloat(style.paddingRight) || 0);
    return Math.max(160, Math.floor(inner));
  };

  const axis = (formatValue: (value: number) => string, size: number): uPlot.Axis => ({
    stroke: muted,
    grid: { stroke: border, width: 1 },
    ticks: { stroke: border, width: 1 },
    size,
    values: (_u, splits) => splits.map((value) => (value === null ? "" : formatValue(value))),
  });

  const charts = specs.map((spec) => {
    const holder = el("figure", { className: "lp-plot", testId: spec.testId }, el("figcaption", { text: spec.title }));
    container.append(holder);
    const options: uPlot.Options = {
      width: width(),
      height: CHART_HEIGHT,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Always the last minute, so the plot scrolls even while it has only a few points.
        x: { time: true, range: (_u, _min, max) => (Number.isFinite(max) ? [max - WINDOW_S, max] : [null, null]) },
        y: { range: (_u, _min, max) => [0, Number.isFinite(max) && max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { stroke: muted, grid: { show: false }, ticks: { stroke: border, width: 1 }, size: 28 },
        axis(spec.formatAxis, 48),
      ],
      series: [{}, ...spec.series.map((line) => ({ label: line.label, stroke: line.color, width: 1.5, spanGaps: false, points: { show: false }, value: (_u: uPlot, value: number | null) => (value === null ? "—" : spec.formatValue(value)) }))],
    };
    const chart = new uPlot(options, [[], ...spec.series.map(() => [])], holder);
    return { spec, chart };
  });
  container.append(el("p", { className: "lp-note" }, document.createTextNode("network_get_stats(-1), one sample a second, last 60 s; samples: "), samplesOut));

  const draw = (): void => {
    const columns = series.columns();
    for (const { spec, chart } of charts) chart.setData([columns.time, ...spec.series.map((line) => columns[line.column])]);
    const latest = series.latest;
    setText(rttOut, formatRtt(latest?.rtt));
    setText(sentOut, latest?.bytesSentPerSecond == null ? "—" : `${formatBytes(latest.bytesSentPerSecond)}/s`);
    setText(receivedOut, latest?.bytesReceivedPerSecond == null ? "—" : `${formatBytes(latest.bytesReceivedPerSecond)}/s`);
    setText(p2pOut, latest?.p2pPacketsPerSecond == null ? "—" : `${formatNumber(latest.p2pPacketsPerSecond, 1)}/s`);
    setText(relayOut, latest?.relayPacketsPerSecond == null ? "—" : `${formatNumber(latest.relayPacketsPerSecond, 1)}/s`);
    setText(samplesOut, String(series.samples.length));
  };

  let lastSample = -Infinity;
  const sample = (): void => {
    // Wall-clock time: uPlot's time axis wants epoch seconds, and the rates need real elapsed time.
    const now = Date.now();
    if (now - lastSample < SAMPLE_MS && now >= lastSample) return;
    lastSample = now;
    try {
      const stats = network_get_stats(-1);
      if (stats === undefined) return;
      series.push(now, stats);
      showErrorIn(error, undefined);
    } catch (problem) {
      showErrorIn(error, problem);
      return;
    }
    draw();
  };

  // Keep the charts as wide as the panel (the sidebar may be resized, or shown after being hidden).
  let pendingResize = 0;
  let shownWidth = width();
  const observer = new ResizeObserver(() => {
    if (pendingResize !== 0) return;
    pendingResize = requestAnimationFrame(() => {
      pendingResize = 0;
      if (container.clientWidth === 0) return;
      const next = width();
      if (next === shownWidth) return;
      shownWidth = next;
      for (const { chart } of charts) chart.setSize({ width: next, height: CHART_HEIGHT });
    });
  });
  observer.observe(container);

  sample();
  host.onTick(sample);
};
