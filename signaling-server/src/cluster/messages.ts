/**
 * What nodes tell each other through their Redis streams (PROTOCOL.md §15). Every address in a
 * message was stamped by the sending node from its own session (§13): the receiving node trusts
 * the bus, never a client. A message is a JSON header plus, for stream data and datagrams, the
 * bytes (relayed as they are).
 */
export type BusMessage =
  /**
   * A SOCKET_STATUS/CONNECTION_REQUEST for `ip` on the receiving node; routingId was allocated by
   * the sender. `sid` (here and in "conn"): the end's durable session, reached through its log;
   * `reqId` the durable requester's own id for the request, so the accepting node can log its
   * SOCKET_CONNECTED (streams.ts DurableOpening), which "conn" then says (`announcedTo`: its session).
   */
  | { t: "req"; kind: "status" | "connect"; appKey: string; ip: number; routingId: number; peerIp: number; peerPort: number; localPort: number; sid?: string; reqId?: number }
  /** The target's status answer to `routingId`. */
  | { t: "status"; routingId: number; listening: boolean }
  /** The request `routingId` ended without an answer (FailReason: OFFLINE, REFUSED, GONE). */
  | { t: "fail"; routingId: number; reason: number }
  /** The target accepted: the stream `connId` is open on the sender, to `peerIp:peerPort` there. */
  | { t: "conn"; routingId: number; connId: number; peerIp: number; peerPort: number; sid?: string; announcedTo?: string }
  /** ARBITRARY_DATA on `connId`, the whole payload in the message's data. */
  | { t: "data"; connId: number }
  /** The other end closed `connId` (CloseReason). */
  | { t: "closed"; connId: number; reason: number }
  /** A DATAGRAM for `ip:port` on the receiving node from `srcIp:srcPort`, the bytes in the message's data. */
  | { t: "dgram"; appKey: string; ip: number; port: number; srcIp: number; srcPort: number }
  /** A BROADCAST to port `port` of the app key from `srcIp:srcPort`, for the receiving node's bound sessions; the bytes in the message's data. */
  | { t: "bcast"; appKey: string; port: number; srcIp: number; srcPort: number }
  /** A frame on app channel `channel` from `fromIp`, for the receiving node's members; the sender's payload in the message's data. */
  | { t: "chan"; appKey: string; channel: number; type: number; priority: number; fromIp: number }
  /**
   * A SIGNAL RELAY for `ip` on the receiving node from `fromIp`, stamped by the sender's node;
   * `sessionId` names the sender's session there, for a refusal.
   */
  | { t: "signal"; appKey: string; ip: number; fromIp: number; pairId: number; kind: number; data: string; sessionId: string }
  /** The receiving node's session `sessionId` relayed `pairId` to `ip`, which no session there holds (any more): NOT_A_PARTICIPANT. */
  | { t: "signal-refused"; sessionId: string; ip: number; pairId: number }
  /** The sending node joined or left an app channel's or a UDP port's members (member-cache.ts; `key` names which). */
  | { t: "member"; key: string; joined: boolean }
  /** The sending node took the receiving node's durable session `sessionId` over (session-log.ts): its copy here goes, ending nothing. */
  | { t: "moved"; sessionId: string }
  /** Another node took the route of (appKey, ip) over: the receiving node's session `sessionId` there ends with 4003 REPLACED. */
  | { t: "replaced"; appKey: string; ip: number; sessionId: string }
  /**
   * Master services across nodes (master/master-forwarder.ts, master/remote-sessions.ts): a request for
   * the master home — an operation, a Hello token's login, the app key's public rooms — answered
   * with "mres" of the same id.
   */
  | { t: "mreq"; id: number; kind: "op"; caller: ForwardedCaller; op: number; body: unknown }
  | { t: "mreq"; id: number; kind: "open"; session: SessionDescriptor }
  | { t: "mreq"; id: number; kind: "rooms"; appKey: string }
  /** The home's answer to "mreq" `id`: the outcome's status and body (for "open", SUCCESS and `{}`; for "rooms", the page). */
  | { t: "mres"; id: number; status: number; body: Record<string, unknown> }
  /** The sending node's session `sessionId` closed: the home ends its login and what hangs on it. */
  | { t: "mgone"; sessionId: string }
  /** From the home, for the receiving node's session: send a frame (the payload in the message's data). */
  | { t: "msend"; sessionId: string; channel: number; type: number; priority: number }
  /** From the home: send an ERROR frame. */
  | { t: "merror"; sessionId: string; code: number; channel: number; type: number; refId: number; message: string }
  /** From the home: close the session. */
  | { t: "mclose"; sessionId: string; code: number; reason: string }
  /** From the home: move the session to another identity (login, logout). */
  | { t: "mmove"; sessionId: string; identityId: number; virtualIp: number }
  /**
   * MCP across nodes (mcp/tool-directory.ts): a question for the node whose engine offers a tool
   * (a call, its call log) or for every node (its engines), answered with "mcpr" of the same id.
   */
  | { t: "mcpq"; id: number; q: McpQuery }
  | { t: "mcpr"; id: number; ok: true; body: unknown }
  | { t: "mcpr"; id: number; ok: false; code: number; message: string }
  /** The MCP client gave the call "mcpq" `id` up (cancelled, or its MCP session ended). */
  | { t: "mcpcancel"; id: number }
  /** The app key's tools changed on the sending node: MCP sessions here are told (notifications/tools/list_changed). */
  | { t: "mcpchanged"; appKey: string };

/** What one node asks another about MCP tools. */
export type McpQuery =
  | { kind: "call"; appKey: string; channel: number; name: string; args: Record<string, unknown> }
  | { kind: "log"; appKey: string; name: string }
  | { kind: "engines"; appKey: string };

/** What the home needs of a WebSocket session on another node to stand in for it (RemoteSession). */
export interface SessionDescriptor {
  readonly id: string;
  readonly appKey: string;
  readonly identityId: number;
  readonly virtualIp: number;
  readonly deviceIdentity: { readonly identityId: number; readonly virtualIp: number };
  readonly remoteAddress: string;
  readonly helloToken: string;
}

/** A master request's caller as the forwarding node knows it; the home adds the login state it keeps. */
export type ForwardedCaller =
  | { readonly via: "ws"; readonly session: SessionDescriptor }
  | {
      readonly via: "http";
      readonly appKey: string;
      readonly address: string;
      /** Checked against the shared token table by the forwarding node. */
      readonly login?: { readonly accountId: number; readonly username: string; readonly guest: boolean; readonly tokenHash: string };
      readonly tokenProblem?: "token_invalid" | "token_expired";
      readonly bearerToken?: string;
    };

export type BusType = BusMessage["t"];
export type BusMessageOf<T extends BusType> = Extract<BusMessage, { t: T }>;
