/**
 * The virtual host's port numbers: the TCP ports taken by listeners and client sockets, and the
 * ephemeral range (49152–65535) that port 0 picks from, one rotating cursor for TCP and UDP alike.
 * The server keeps no port table of its own: ports are this engine's business.
 */
const FIRST_EPHEMERAL_PORT = 49152;
const PORT_COUNT = 65536;

export class Ports {
  private readonly tcpPortsInUse = new Set<number>();
  private nextEphemeral = FIRST_EPHEMERAL_PORT;

  /** Takes a TCP port for a listener or a client socket; 0 picks a free ephemeral one. Returns 0 if taken. */
  takeTcpPort(port: number): number {
    const chosen = port === 0 ? this.ephemeral((candidate) => !this.tcpPortsInUse.has(candidate)) : port;
    if (chosen === 0 || this.tcpPortsInUse.has(chosen)) return 0;
    this.tcpPortsInUse.add(chosen);
    return chosen;
  }

  releaseTcpPort(port: number): void {
    this.tcpPortsInUse.delete(port);
  }

  /** The next ephemeral port that `free` accepts, 0 if none. */
  ephemeral(free: (port: number) => boolean): number {
    for (let tries = 0; tries < PORT_COUNT - FIRST_EPHEMERAL_PORT; tries++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port + 1 >= PORT_COUNT ? FIRST_EPHEMERAL_PORT : port + 1;
      if (free(port)) return port;
    }
    return 0;
  }
}
