/**
 * The session a connection carries once its Hello's identity is known (PROTOCOL.md §14): the one
 * its RESUME names, if this identity may resume it; a durable session another node had, taken over
 * from Redis (§15 "Durable sessions"); or a new one. Each path answers WELCOME (and RESUMED when
 * the client asked to resume) before anything else of the session goes out.
 */
import { CloseCode, type HelloMessage, type MessageOf, PROTOCOL_VERSION, type Resume, type Resumed, Welcome } from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../storage/storage.js";
import { ClientSession } from "./client-session.js";
import { DurableClientSession } from "./durable-client-session.js";
import type { SessionLink } from "./session-link.js";

/** What opening a session needs of its connection (session/connection.ts). */
export interface OpeningConnection extends SessionLink {
  /** The connection ended meanwhile. */
  readonly ended: boolean;
  /** The connection carries `session` from now on. */
  carry(session: ClientSession): void;
  /** WELCOME for `session` at once, then RESUMED when given. */
  greet(session: ClientSession, resumed?: MessageOf<typeof Resumed>): void;
  startHeartbeat(): void;
}

/** A promise while the session is not ready (a take-over, a durable session's writes, the services opening it). */
export function openSession(connection: OpeningConnection, context: ServerContext, hello: HelloMessage, resume: MessageOf<typeof Resume> | undefined, identity: Identity): Promise<void> | undefined {
  const { config, sessions, metrics } = context;
  const resumable = resume !== undefined && config.resumeWindowMs > 0;
  if (!resumable || resume.sessionId === "") return openNew(connection, context, hello, resume, identity);

  const previous = sessions.get(resume.sessionId);
  // Only the identity that owns a session may resume it: the secret is the proof, the id names the session.
  const owned = previous !== undefined && previous.appKey === hello.appKey && previous.deviceIdentity.identityId === identity.identityId;
  if (owned && previous.canResume(resume.received)) {
    metrics.resumes.inc({ result: "resumed" });
    connection.carry(previous);
    const attach = (): void => {
      if (connection.ended) return;
      if (previous.closed) return connection.closeSocket(CloseCode.REPLACED, "the session ended meanwhile");
      connection.greet(previous, { resumed: true, received: previous.receivedCount, resumeWindowMs: config.resumeWindowMs });
      previous.attach(connection, resume.received);
      connection.startHeartbeat();
    };
    // A durable session's frames handled so far are written before RESUMED says they arrived.
    if (previous.durable && context.sessionLog !== undefined) return context.sessionLog.settled().then(attach);
    attach();
    return undefined;
  }
  // Not here: a durable session may be another node's (or a killed node's), to take over.
  if (previous === undefined && context.sessionLog !== undefined) return takeOver(connection, context, hello, resume, identity);
  metrics.resumes.inc({ result: "refused" });
  context.logger.debug({ session: resume.sessionId, known: previous !== undefined, owned, received: resume.received }, "resume refused");
  // A session its owner cannot resume is over: its peers hear of it now, not when the window ends.
  if (owned) previous.close(CloseCode.REPLACED, "this identity started a new session");
  return openNew(connection, context, hello, resume, identity);
}

/** A new session for the Hello (RESUMED `resumed = false` when it asked to resume). */
function openNew(connection: OpeningConnection, context: ServerContext, hello: HelloMessage, resume: MessageOf<typeof Resume> | undefined, identity: Identity): Promise<void> | undefined {
  const { directory, config, sessionLog: log } = context;
  const resumable = resume !== undefined && config.resumeWindowMs > 0;
  const session =
    resumable && log !== undefined
      ? new DurableClientSession(context, connection, hello.appKey, identity, hello.token, log)
      : new ClientSession(context, connection, hello.appKey, identity, hello.token, resumable);
  connection.carry(session);
  // One live session per identity: the newest wins, the older one is told why it lost.
  directory.holder(session.appKey, session.virtualIp)?.close(CloseCode.REPLACED, "this identity connected elsewhere");
  directory.add(session);
  connection.greet(session, resume === undefined ? undefined : { resumed: false, received: 0, resumeWindowMs: resumable ? config.resumeWindowMs : 0 });
  const opening = context.sessionOpened(session);
  connection.startHeartbeat();
  return opening;
}

/**
 * RESUME of a durable session this node does not hold (PROTOCOL.md §15): its record is taken over
 * from Redis (the node that had it, dead or alive, applies nothing more of it) and its log
 * replayed; refused, the Hello opens a new session as for any refused RESUME.
 */
async function takeOver(connection: OpeningConnection, context: ServerContext, hello: HelloMessage, resume: MessageOf<typeof Resume>, identity: Identity): Promise<void> {
  const { config, metrics, directory, logger } = context;
  const log = context.sessionLog!;
  const taken = await log.take(resume.sessionId, hello.appKey, identity.identityId, resume.received);
  if (connection.ended) return;
  if (typeof taken === "string") {
    metrics.resumes.inc({ result: "refused" });
    logger.debug({ session: resume.sessionId, reason: taken }, "resume refused (durable session not taken over)");
    return openNew(connection, context, hello, resume, identity);
  }
  metrics.resumes.inc({ result: "moved" });
  const session = new DurableClientSession(context, connection, hello.appKey, identity, taken.meta.helloToken, log, { id: resume.sessionId, taken, clientReceived: resume.received });
  connection.carry(session);
  directory.holder(session.appKey, session.virtualIp)?.close(CloseCode.REPLACED, "this identity connected elsewhere");
  directory.add(session);
  connection.greet(session, { resumed: true, received: taken.received, resumeWindowMs: config.resumeWindowMs });
  // Its streams first: the replayed frames and the client's next ones refer to them.
  context.sessionMovedIn(session, taken);
  session.attach(connection, resume.received);
  connection.startHeartbeat();
}

/** WELCOME's payload for `session`. */
export function welcomeOf(context: ServerContext, session: ClientSession): Uint8Array {
  const { config, clock } = context;
  return Welcome.encode({
    version: PROTOCOL_VERSION,
    virtualIp: session.virtualIp,
    sessionId: session.id,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    tickRate: config.tickRate,
    maxFrameSize: config.maxFrameSize,
    serverTime: clock.wallNow?.() ?? Date.now(),
  });
}
