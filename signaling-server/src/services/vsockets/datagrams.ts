/**
 * UDP over the server: UDP_BIND/UDP_UNBIND record the ports a session receives datagrams on,
 * DATAGRAM goes to one bound peer, BROADCAST to every other bound session of the app key.
 * Delivery is best effort at Priority.LOW, as UDP's: a datagram nobody listens for is dropped
 * without telling the sender. The source address is always stamped from the sending session.
 */
import { Broadcast, Channel, Datagram, Priority, ProtocolError, UdpBind, VSocketType } from "@gmnet/protocol";
import type { ClusterLink } from "../../cluster/cluster.js";
import type { ServerContext } from "../../server-context.js";
import type { TakenSession } from "../../cluster/session-log.js";
import type { Session } from "../../session/session.js";

export interface Datagrams {
  onSessionClose(session: Session): void;
  /** Binds a durable session taken over from another node to the ports it had there. */
  onSessionMovedIn(session: Session, taken: TakenSession): void;
}

export function createDatagrams(context: ServerContext, cluster?: ClusterLink): Datagrams {
  const { router, directory, metrics } = context;
  // app key → port → bound sessions: keyed by app first, so no lookup can cross app keys.
  const listeners = new Map<string, Map<number, Set<Session>>>();
  // session → its bound ports, to unbind in O(own ports) when it leaves.
  const portsOf = new Map<Session, Set<number>>();

  const bind = (session: Session, port: number): void => {
    let ports = listeners.get(session.appKey);
    if (ports === undefined) listeners.set(session.appKey, (ports = new Map()));
    let members = ports.get(port);
    if (members === undefined) ports.set(port, (members = new Set()));
    // The node's first binding of the port: other nodes' broadcasts to it come here now.
    if (members.size === 0) cluster?.udpPorts.bind(session.appKey, port);
    members.add(session);
    let mine = portsOf.get(session);
    if (mine === undefined) portsOf.set(session, (mine = new Set()));
    mine.add(port);
  };

  /** Removes the session from the port's listeners only (empty maps go too); see unbind. */
  const unlisten = (session: Session, port: number): void => {
    const ports = listeners.get(session.appKey);
    const members = ports?.get(port);
    if (ports === undefined || members === undefined) return;
    if (members.delete(session) && members.size === 0) {
      ports.delete(port);
      cluster?.udpPorts.unbind(session.appKey, port);
    }
    if (ports.size === 0) listeners.delete(session.appKey);
  };

  const unbind = (session: Session, port: number): void => {
    unlisten(session, port);
    const mine = portsOf.get(session);
    mine?.delete(port);
    if (mine?.size === 0) portsOf.delete(session);
  };

  /** A durable session's ports go in its record, with the frame that bound them, so a move binds them again. */
  const remember = (session: Session): void => {
    if (session.durable === true) cluster?.sessionLog?.setUdpPorts(session.id, [...(portsOf.get(session) ?? [])]);
  };

  const isBound = (session: Session, port: number): boolean => listeners.get(session.appKey)?.get(port)?.has(session) ?? false;

  const invalidPort = (session: Session, type: number): void => {
    session.sendError(ProtocolError.INVALID_PORT, Channel.VSOCKET, type, 0, "ports are 1–65535; 0 names no socket");
  };

  router.on(Channel.VSOCKET, VSocketType.UDP_BIND, (session, payload) => {
    const { port } = UdpBind.decode(payload);
    if (port === 0) return invalidPort(session, VSocketType.UDP_BIND);
    const bound = portsOf.get(session);
    if (!bound?.has(port) && (bound?.size ?? 0) >= context.config.maxUdpBindings) {
      return session.sendError(ProtocolError.TOO_MANY_BINDINGS, Channel.VSOCKET, VSocketType.UDP_BIND, port, `at most ${context.config.maxUdpBindings} bound UDP ports per connection`);
    }
    bind(session, port);
    remember(session);
  });

  router.on(Channel.VSOCKET, VSocketType.UDP_UNBIND, (session, payload) => {
    const { port } = UdpBind.decode(payload);
    if (port === 0) return invalidPort(session, VSocketType.UDP_UNBIND);
    unbind(session, port);
    remember(session);
  });

  router.on(Channel.VSOCKET, VSocketType.DATAGRAM, (session, payload) => {
    const { peerIp, peerPort, localPort, data } = Datagram.decode(payload);
    // Port 0 is a malformed address, not a missing listener, so it is an error and not a drop.
    if (peerPort === 0 || localPort === 0) return invalidPort(session, VSocketType.DATAGRAM);
    const target = directory.lookup(session.appKey, peerIp);
    if (target === undefined && cluster !== undefined) {
      // Another node's address (--redis): stamped here, delivered (or dropped) by the owning node.
      const { appKey, virtualIp } = session;
      const bytes = data.slice();
      void cluster.locate(appKey, peerIp).then((node) => {
        if (node === undefined) return metrics.drops.inc({ reason: "no-listener" });
        cluster.send(node, { t: "dgram", appKey, ip: peerIp, port: peerPort, srcIp: virtualIp, srcPort: localPort }, bytes);
      });
      return;
    }
    deliver(target, session.virtualIp, localPort, peerPort, data);
  });

  const deliver = (target: Session | undefined, srcIp: number, srcPort: number, port: number, data: Uint8Array): void => {
    if (target === undefined || target.closed || !isBound(target, port)) {
      metrics.drops.inc({ reason: "no-listener" });
      return;
    }
    target.send(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.LOW, Datagram.encode({ peerIp: srcIp, peerPort: srcPort, localPort: port, data }));
  };

  cluster?.on("dgram", (_from, { appKey, ip, port, srcIp, srcPort }, data) => {
    if (data !== undefined) deliver(directory.lookup(appKey, ip), srcIp, srcPort, port, data);
  });

  router.on(Channel.VSOCKET, VSocketType.BROADCAST, (session, payload) => {
    const { port, localPort, data } = Broadcast.decode(payload);
    if (port === 0 || localPort === 0) return invalidPort(session, VSocketType.BROADCAST);
    if (cluster !== undefined) {
      // The other nodes with sessions bound to the port get it stamped here, in this sender's order.
      const { appKey, virtualIp } = session;
      const bytes = data.slice();
      void cluster.udpPorts.nodes(appKey, port).then((nodes) => {
        for (const node of nodes) cluster.send(node, { t: "bcast", appKey, port, srcIp: virtualIp, srcPort: localPort }, bytes);
      });
    }
    const members = listeners.get(session.appKey)?.get(port);
    if (members === undefined) return;
    // Encoded once: every receiver sees the same stamped source.
    const datagram = Datagram.encode({ peerIp: session.virtualIp, peerPort: localPort, localPort: port, data });
    for (const member of members) if (member !== session) member.send(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.LOW, datagram);
  });

  cluster?.on("bcast", (_from, { appKey, port, srcIp, srcPort }, data) => {
    const members = listeners.get(appKey)?.get(port);
    if (data === undefined || members === undefined) return;
    const datagram = Datagram.encode({ peerIp: srcIp, peerPort: srcPort, localPort: port, data });
    for (const member of members) member.send(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.LOW, datagram);
  });

  return {
    onSessionMovedIn(session, taken) {
      for (const port of taken.udpPorts) bind(session, port);
    },
    onSessionClose(session) {
      for (const port of portsOf.get(session) ?? []) unlisten(session, port);
      portsOf.delete(session);
    },
  };
}
