/**
 * Application channels (seed 003): a client registers a channel by name and gets a number
 * ≥ 1000, the same number for every client of its app key that registers the same name.
 * A frame sent on an app channel reaches every other client of the app key registered on it,
 * with the sender's virtual IP stamped in front of its payload (ChannelData, PROTOCOL.md §3).
 *
 * An app's name → number table outlives its members, so numbers stay stable while the server
 * runs (a client that comes back, or a new one, gets the numbers the others had). It is bounded:
 * at most maxAppChannels names per app key, and at most maxIdleApps tables (MAX_IDLE_APPS by default) of app keys nobody
 * is connected to, the longest idle forgotten first.
 *
 * With --redis (`cluster`) the numbers are allocated in Redis, shared by every node of the app key
 * with the same rules and bound, and a frame also goes to the other nodes with members of the
 * channel, stamped here, which hand it to their own members (PROTOCOL.md §15).
 */
import type { ClusterLink } from "../cluster/cluster.js";
import { Channel, ChannelAssigned, ChannelData, ChannelRegister, ChannelUnregister, ControlType, Priority, ProtocolError } from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Session, SessionLifecycle } from "../session/session.js";

/** Default of maxIdleApps: tables of app keys with no connected member that are kept (about 20 KB each at most, with 256 channels). */
export const MAX_IDLE_APPS = 1024;

interface AppChannels {
  readonly byName: Map<string, number>;
  readonly members: Map<number, Set<Session>>;
  /** Sessions of this app key that have registered at least one channel. */
  sessions: number;
}

export function createControlService(context: ServerContext, cluster?: ClusterLink): SessionLifecycle {
  const { router, config, logger } = context;
  const apps = new Map<string, AppChannels>();
  /** App keys whose table is kept with nobody in it, oldest first (Map order). */
  const idle = new Set<string>();
  const joined = new Map<Session, Set<number>>();

  const appOf = (appKey: string): AppChannels => {
    let app = apps.get(appKey);
    if (app === undefined) apps.set(appKey, (app = { byName: new Map(), members: new Map(), sessions: 0 }));
    return app;
  };

  const leave = (session: Session, channel: number): void => {
    const app = apps.get(session.appKey);
    const members = app?.members.get(channel);
    // The node's last member: the other nodes stop sending it the channel's frames.
    if (members?.delete(session) === true && members.size === 0) cluster?.channels.leave(session.appKey, channel);
    joined.get(session)?.delete(channel);
  };

  const tooMany = (session: Session, name: string): void => {
    session.sendError(ProtocolError.TOO_MANY_CHANNELS, Channel.CONTROL, ControlType.CHANNEL_REGISTER, 0, `an app may register at most ${config.maxAppChannels} channels`);
    // Channel 0 answers the request in order with the others (the ERROR above overtakes them).
    session.send(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, Priority.HIGH, ChannelAssigned.encode({ name, channel: 0 }));
  };

  router.on(Channel.CONTROL, ControlType.CHANNEL_REGISTER, (session, payload) => {
    const { name } = ChannelRegister.decode(payload);
    if (cluster !== undefined) {
      // Allocated in Redis (one connection: the answers keep the order of the requests).
      const { appKey } = session;
      void cluster.channels.register(appKey, name, config.maxAppChannels, Channel.FIRST_APP).then(
        (channel) => {
          if (channel === 0) {
            if (!session.closed) tooMany(session, name);
          } else if (session.closed) {
            // The script recorded this node as a member; nobody here is.
            if ((apps.get(appKey)?.members.get(channel)?.size ?? 0) === 0) cluster.channels.leave(appKey, channel);
          } else {
            join(session, name, channel);
          }
        },
        (error: unknown) => {
          logger.warn({ err: error }, "cluster: registering an app channel failed");
          if (!session.closed) session.send(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, Priority.HIGH, ChannelAssigned.encode({ name, channel: 0 }));
        },
      );
      return;
    }
    const app = appOf(session.appKey);
    let channel = app.byName.get(name);
    if (channel === undefined) {
      if (app.byName.size >= config.maxAppChannels) return tooMany(session, name);
      channel = Channel.FIRST_APP + app.byName.size;
      app.byName.set(name, channel);
    }
    join(session, name, channel);
  });

  const join = (session: Session, name: string, channel: number): void => {
    const app = appOf(session.appKey);
    if (cluster !== undefined) app.byName.set(name, channel);
    let members = app.members.get(channel);
    if (members === undefined) app.members.set(channel, (members = new Set()));
    // Again after a last member's leave that overtook this registration's answer.
    if (cluster !== undefined && members.size === 0) cluster.channels.join(session.appKey, channel);
    members.add(session);
    // A durable session in an app channel resumes only on this node (the membership is this node's).
    session.pin?.("app channel");
    let mine = joined.get(session);
    if (mine === undefined) {
      joined.set(session, (mine = new Set()));
      app.sessions++;
      idle.delete(session.appKey);
    }
    mine.add(channel);
    session.send(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, Priority.HIGH, ChannelAssigned.encode({ name, channel }));
  };

  router.on(Channel.CONTROL, ControlType.CHANNEL_UNREGISTER, (session, payload) => {
    leave(session, ChannelUnregister.decode(payload).channel);
  });

  router.onAppChannels((session, payload, type, channel, priority) => {
    const members = apps.get(session.appKey)?.members.get(channel);
    if (members === undefined || !members.has(session)) {
      return session.sendError(ProtocolError.UNKNOWN_CHANNEL, channel, type, 0, `register channel ${channel} before sending on it`);
    }
    if (cluster !== undefined) {
      // The other nodes with members get the frame stamped here, in this sender's order.
      const { appKey, virtualIp } = session;
      const data = payload.slice();
      void cluster.channels.nodes(appKey, channel).then((nodes) => {
        for (const node of nodes) cluster.send(node, { t: "chan", appKey, channel, type, priority, fromIp: virtualIp }, data);
      });
    }
    if (members.size < 2) return;
    // The sender is what the server knows of the session, never anything the client wrote (§13).
    const relayed = ChannelData.encode({ fromIp: session.virtualIp, data: payload });
    for (const member of members) if (member !== session) member.send(channel, type, priority, relayed);
  });

  cluster?.on("chan", (_from, { appKey, channel, type, priority, fromIp }, data) => {
    const members = apps.get(appKey)?.members.get(channel);
    if (data === undefined || members === undefined || members.size === 0) return;
    const relayed = ChannelData.encode({ fromIp, data });
    for (const member of members) member.send(channel, type, priority, relayed);
  });

  return {
    onSessionClose(session) {
      const mine = joined.get(session);
      if (mine === undefined) return;
      for (const channel of mine) leave(session, channel);
      joined.delete(session);
      const app = apps.get(session.appKey);
      if (app === undefined || --app.sessions > 0) return;
      // Nobody of this app key is left: keep its numbers, within the bound on idle tables.
      idle.add(session.appKey);
      if (idle.size > config.maxIdleApps) {
        const oldest = idle.values().next().value as string;
        idle.delete(oldest);
        apps.delete(oldest);
      }
    },
  };
}
