/**
 * A fault-injecting TCP proxy for integration tests. It sits between WebSocket clients (engines
 * using `ws`) and a real server on 127.0.0.1, forwards bytes both ways, and lets a test break the
 * path the way real networks do, so reconnect and timeout logic is exercised against real sockets
 * rather than mocks:
 *
 * - reset():    every live pair is killed with a TCP RST on both sides — the peer process was
 *               killed, or a NAT/firewall forgot the flow and answers with RST. Both ends see
 *               ECONNRESET at once (a WebSocket closes with 1006).
 * - drop():     every live pair is closed with a FIN on both sides and no WebSocket close frame —
 *               a NAT dropped state and the endpoint noticed; an orderly TCP close, an abrupt
 *               WebSocket one (1006).
 * - stall():    every live pair becomes a black hole: sockets stay open, bytes are read and
 *               discarded, nothing is forwarded ever again — a Wi-Fi to mobile path change, where
 *               packets go nowhere and only heartbeats/timeouts can notice.
 * - halfOpen(): one direction of every live pair becomes a black hole while the other keeps
 *               flowing — an asymmetric failure (one-way route loss, a half-dead middlebox).
 * - block():    new connections are accepted and reset at once, existing ones are untouched — the
 *               server is unreachable (connection refused) while reconnecting; unblock() restores.
 *
 * Faults apply to the pairs live at the moment of the call; connections made afterwards work
 * normally (except while blocked), which is what a reconnect after a path change looks like.
 *
 * Only node:net. It listens on 127.0.0.1 port 0, so parallel test files never collide. Every
 * socket has an 'error' listener, so a reset or refused connection never crashes the test run.
 */
import { type AddressInfo, type Server, type Socket, createConnection, createServer } from "node:net";

export type FaultDirection = "to-server" | "to-client";

export interface FaultProxy {
  /** The port it listens on (127.0.0.1, port 0 chosen by the OS). */
  readonly port: number;
  /** ws://127.0.0.1:<port><path> — convenience for WebSocket clients. */
  wsUrl(path?: string): string;
  /** Live proxied connection pairs. A pair stops being live as soon as a fault kills it or either end closes. */
  readonly connections: number;
  /** Total pairs ever accepted (connections refused while blocked are not pairs and not counted). */
  readonly accepted: number;
  /** Kills every live pair at once with a TCP RST on both sides (socket.resetAndDestroy()). */
  reset(): void;
  /** Kills every live pair by destroying both sockets (FIN/close, like a NAT dropping state and the client noticing). */
  drop(): void;
  /** Black-holes every live pair in both directions: sockets stay open, bytes are read and discarded, nothing is forwarded ever again. New connections work normally. */
  stall(): void;
  /** Black-holes one direction of every live pair ("to-server" or "to-client"); the other keeps flowing. New connections work normally. */
  halfOpen(direction: FaultDirection): void;
  /** While blocked, new connections are accepted and reset at once (server unreachable); existing ones are untouched. */
  block(): void;
  unblock(): void;
  /**
   * Optional hook, called for every pair with each chunk just before it is forwarded, for
   * counting. Black-holed chunks are discarded without a call, so it counts what got through.
   */
  onChunk?: (direction: FaultDirection, bytes: number) => void;
  /** Stops listening and destroys every pair. */
  close(): Promise<void>;
}

/** One client connection and its upstream connection; `open` says which directions still forward. */
interface Pair {
  client: Socket;
  server: Socket;
  open: Record<FaultDirection, boolean>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const live = new Set<Pair>();
  // Every socket until its 'close', including those of pairs no longer live, so close() misses none.
  const sockets = new Set<Socket>();
  let accepted = 0;
  let blocked = false;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    // Resets and refusals are the point of this proxy: they must never become uncaught errors.
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  };

  /** An RST where there is a connection to reset; a socket still connecting is simply abandoned. */
  const rst = (socket: Socket): void => {
    if (socket.destroyed) return;
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  };

  const kill = (pair: Pair, how: (socket: Socket) => void): void => {
    live.delete(pair);
    how(pair.client);
    how(pair.server);
  };

  const blackHole = (pair: Pair, direction: FaultDirection): void => {
    pair.open[direction] = false;
    // The source may be paused waiting for 'drain' from a destination that no longer matters:
    // let it read again, so it discards instead of holding bytes back.
    (direction === "to-server" ? pair.client : pair.server).resume();
  };

  /** Forwards src to dst while the direction is open, with backpressure, including the FIN. */
  const forward = (pair: Pair, src: Socket, dst: Socket, direction: FaultDirection): void => {
    src.on("data", (chunk: Buffer) => {
      if (!pair.open[direction]) return;
      proxy.onChunk?.(direction, chunk.length);
      if (!dst.write(chunk)) {
        src.pause();
        dst.once("drain", () => src.resume());
      }
    });
    src.on("end", () => {
      if (pair.open[direction]) dst.end();
      // A black-holed direction swallows the FIN too, but a stalled pair must not outlive its
      // ends: once one end has gone, the pair is torn down.
      else kill(pair, (socket) => socket.destroy());
    });
    // When src is gone, dst follows: gracefully if a forwarded FIN is still flushing to it,
    // at once otherwise (src was reset, dropped, or its direction black-holed).
    src.on("close", () => {
      live.delete(pair);
      if (dst.destroyed) return;
      if (dst.writableEnded && !dst.writableFinished && pair.open[direction]) dst.once("finish", () => dst.destroy());
      else dst.destroy();
    });
  };

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    track(client);
    if (blocked) {
      rst(client);
      return;
    }
    accepted++;
    // allowHalfOpen on both sides: the proxy forwards a FIN as a FIN instead of closing early.
    const upstream = createConnection({ host: target.host, port: target.port, allowHalfOpen: true });
    track(upstream);
    const pair: Pair = { client, server: upstream, open: { "to-server": true, "to-client": true } };
    live.add(pair);
    // Bytes the client sends before the upstream connects are queued by the upstream socket;
    // if the connect fails, its 'close' destroys the client through forward()'s close handler.
    forward(pair, client, upstream, "to-server");
    forward(pair, upstream, client, "to-client");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {});
  const port = (server.address() as AddressInfo).port;

  const proxy: FaultProxy = {
    port,
    wsUrl: (path = "/") => `ws://127.0.0.1:${port}${path.startsWith("/") ? path : `/${path}`}`,
    get connections() {
      return live.size;
    },
    get accepted() {
      return accepted;
    },
    reset() {
      for (const pair of [...live]) kill(pair, rst);
    },
    drop() {
      for (const pair of [...live]) kill(pair, (socket) => socket.destroy());
    },
    stall() {
      for (const pair of live) {
        blackHole(pair, "to-server");
        blackHole(pair, "to-client");
      }
    },
    halfOpen(direction) {
      for (const pair of live) blackHole(pair, direction);
    },
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      live.clear();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return proxy;
}
