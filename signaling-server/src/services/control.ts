/**
 * Application channels (seed 003): a client registers a channel by name and gets a number
 * ≥ 1000, the same number for every client of its app key that registers the same name.
 * A frame sent on an app channel reaches every other client of the app key registered on it.
 */
import { Channel, ChannelAssigned, ChannelRegister, ChannelUnregister, ControlType, Priority, ProtocolError } from "@gmnet/engine/protocol";
import type { ServerContext } from "../server-context.js";
import type { Session, SessionLifecycle } from "../session/session.js";

interface AppChannels {
  readonly byName: Map<string, number>;
  readonly members: Map<number, Set<Session>>;
}

export function createControlService(context: ServerContext): SessionLifecycle {
  const { router, config } = context;
  const apps = new Map<string, AppChannels>();
  const joined = new Map<Session, Set<number>>();

  const appOf = (appKey: string): AppChannels => {
    let app = apps.get(appKey);
    if (app === undefined) apps.set(appKey, (app = { byName: new Map(), members: new Map() }));
    return app;
  };

  const leave = (session: Session, channel: number): void => {
    const app = apps.get(session.appKey);
    const members = app?.members.get(channel);
    members?.delete(session);
    joined.get(session)?.delete(channel);
  };

  router.on(Channel.CONTROL, ControlType.CHANNEL_REGISTER, (session, payload) => {
    const { name } = ChannelRegister.decode(payload);
    const app = appOf(session.appKey);
    let channel = app.byName.get(name);
    if (channel === undefined) {
      if (app.byName.size >= config.maxAppChannels) {
        return session.sendError(ProtocolError.TOO_MANY_CHANNELS, Channel.CONTROL, ControlType.CHANNEL_REGISTER, 0, `an app may register at most ${config.maxAppChannels} channels`);
      }
      channel = Channel.FIRST_APP + app.byName.size;
      app.byName.set(name, channel);
    }
    let members = app.members.get(channel);
    if (members === undefined) app.members.set(channel, (members = new Set()));
    members.add(session);
    let mine = joined.get(session);
    if (mine === undefined) joined.set(session, (mine = new Set()));
    mine.add(channel);
    session.send(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, Priority.HIGH, ChannelAssigned.encode({ name, channel }));
  });

  router.on(Channel.CONTROL, ControlType.CHANNEL_UNREGISTER, (session, payload) => {
    leave(session, ChannelUnregister.decode(payload).channel);
  });

  router.onAppChannels((session, payload, type, channel) => {
    const members = apps.get(session.appKey)?.members.get(channel);
    if (members === undefined || !members.has(session)) {
      return session.sendError(ProtocolError.UNKNOWN_CHANNEL, channel, type, 0, `register channel ${channel} before sending on it`);
    }
    for (const member of members) if (member !== session) member.send(channel, type, Priority.NORMAL, payload);
  });

  return {
    onSessionClose(session) {
      const app = apps.get(session.appKey);
      for (const channel of joined.get(session) ?? []) app?.members.get(channel)?.delete(session);
      joined.delete(session);
      // An app key nobody uses any more is forgotten, so clients cannot grow this map without bound.
      if (app !== undefined && [...app.members.values()].every((members) => members.size === 0)) apps.delete(session.appKey);
    },
  };
}
