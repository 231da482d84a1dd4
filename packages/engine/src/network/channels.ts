/**
 * App channels (seed 003, PROTOCOL.md §3): named message channels shared by every engine of an
 * app key, relayed by the signaling server. network_channel_register asks for a name's number
 * (≥ 1000, the same for every engine of the app, stable while the server runs); messages sent on
 * it reach every other engine of the app registered on it, as network_type_channel_data events
 * that carry the sender's virtual IP as the server stamped it. docs/NETWORK.md "App channels".
 */
import { ErrorCode, GmnetError } from "../errors.js";
import { Channel, ChannelAssigned, ChannelData, ChannelRegister, ChannelUnregister, ControlType, MAX_NAME_BYTES, Priority, formatIpv4 } from "@gmnet/protocol";
import { type EngineContext, bufferRange, requireNumber, requireString } from "../runtime/context.js";
import { NETWORK_SEND_FAILED, NETWORK_SEND_TOO_LARGE, network_type_channel, network_type_channel_data } from "./constants.js";
import { SEQUENCED_SEAL_OVERHEAD, SealKind, additionalData, seal } from "./e2e.js";
import { NetworkError, type NetworkFault } from "./errors.js";
import type { NetworkRuntime } from "./runtime.js";
import { emitWithBuffer } from "./sockets/socket-events.js";

/** Traffic of one app channel, as network_get_stats(-1).channels lists it: payload bytes, as the script sees them. */
export interface ChannelStats {
  channel: number;
  name: string;
  packets_sent: number;
  bytes_sent: number;
  packets_received: number;
  bytes_received: number;
}

/** The largest frame payload the server accepts when WELCOME has not said (its default maxFrameSize). */
const DEFAULT_MAX_FRAME_SIZE = 256 * 1024;
const utf8 = new TextEncoder();

export function createChannelApi(context: EngineContext, net: NetworkRuntime) {
  /** Channels this engine registered: name → number, and number → its name and traffic. */
  const byName = new Map<string, number>();
  const stats = new Map<number, ChannelStats>();
  /** Request ids waiting for CHANNEL_ASSIGNED, per name, oldest first (the server answers in order). */
  const pending = new Map<string, number[]>();
  net.addNeed(() => byName.size > 0 || pending.size > 0);

  const answer = (id: number, name: string, channel: number, problem?: NetworkFault): void => {
    const load: Record<string, unknown> = { type: network_type_channel, id, name, channel, succeeded: problem === undefined ? 1 : 0 };
    if (problem !== undefined) Object.assign(load, { error: problem.code, message: problem.message });
    net.emit(load);
  };

  const takePending = (name: string): number | undefined => {
    const ids = pending.get(name);
    const id = ids?.shift();
    if (ids !== undefined && ids.length === 0) pending.delete(name);
    return id;
  };

  const failPending = (problem: NetworkFault): void => {
    const all = [...pending];
    pending.clear();
    for (const [name, ids] of all) for (const id of ids) answer(id, name, -1, problem);
  };

  const statsOf = (channel: number, name: string): ChannelStats => {
    let entry = stats.get(channel);
    // A number that named another channel (unregistered, then handed out anew by a restarted server) starts afresh.
    if (entry?.name !== name) stats.set(channel, (entry = { channel, name, packets_sent: 0, bytes_sent: 0, packets_received: 0, bytes_received: 0 }));
    return entry;
  };

  const sendRegister = (name: string): boolean => net.signaling.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, ChannelRegister.encode({ name }), Priority.HIGH);

  net.signaling.on(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, (payload) => {
    const { name, channel } = ChannelAssigned.decode(payload);
    const id = takePending(name);
    if (channel === 0) {
      // The app key has all the channels the server allows (an ERROR TOO_MANY_CHANNELS came too).
      if (id !== undefined) answer(id, name, -1, { code: NetworkError.LIMIT, message: `the server refused channel "${name}": the app has as many channels as it allows` });
      return;
    }
    const before = byName.get(name);
    // A re-registration after a new session (no request waiting) only refreshes the table…
    if (id === undefined && before === undefined) return;
    byName.set(name, channel);
    statsOf(channel, name);
    if (id !== undefined) answer(id, name, channel);
    // …unless a restarted server gave the name another number: the script must send on the new one.
    else if (before !== channel) net.emit({ type: network_type_channel, id: -1, name, channel, previous_channel: before, succeeded: 1 });
  });

  net.signaling.onAppFrame = (channel, type, payload) => {
    const entry = stats.get(channel);
    // Frames still on their way after network_channel_unregister are dropped.
    if (entry === undefined || byName.get(entry.name) !== channel) return;
    const { fromIp, data } = ChannelData.decode(payload);
    const deliver = (bytes: Uint8Array): void => {
      entry.packets_received++;
      entry.bytes_received += bytes.length;
      emitWithBuffer({ context, net }, { type: network_type_channel_data, id: channel, channel, name: entry.name, packet_type: type, ip: formatIpv4(fromIp) }, bytes);
    };
    const key = net.e2e.current();
    if (key === undefined) return deliver(data);
    // Encrypted: opened as they arrive, delivered in arrival order; a message that fails (or a
    // plaintext one) never reaches the script.
    const sealed = data.slice();
    net.e2e.channelsIn.pipe(net.e2e.openSequenced(key, SealKind.CHANNEL, fromIp, channel, type, sealed), (plain) => {
      if (plain !== undefined && byName.get(entry.name) === channel) deliver(plain);
    });
  };

  // A new session (the old one could not be resumed) knows none of our channels: register them
  // again. Their numbers do not change, since the server keeps them while it runs.
  net.onSessionOpened(() => {
    for (const name of byName.keys()) sendRegister(name);
  });
  net.onConnectionLost(failPending);

  return {
    api: {
      /**
       * Asks for the number of the app channel `name` (1–64 bytes of UTF-8); returns a request id,
       * answered by a network_type_channel event with `id`, `name`, `channel` and `succeeded`.
       */
      network_channel_register(name: string): number {
        const text = requireString(name, "name", "network_channel_register");
        const bytes = utf8.encode(text).length;
        if (bytes === 0 || bytes > MAX_NAME_BYTES) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `network_channel_register: a channel name has 1 to ${MAX_NAME_BYTES} bytes of UTF-8, not ${bytes}`);
        const id = context.nextRequestId();
        const known = byName.get(text);
        if (known !== undefined) {
          answer(id, text, known);
          return id;
        }
        const ids = pending.get(text);
        if (ids === undefined) pending.set(text, [id]);
        else ids.push(id);
        net.whenOnline(
          () => {
            if (!sendRegister(text)) failPending({ code: NetworkError.SIGNALING, message: "the connection to the signaling server was lost" });
          },
          (problem) => {
            const waiting = pending.get(text);
            const at = waiting?.indexOf(id) ?? -1;
            if (at < 0) return;
            waiting!.splice(at, 1);
            if (waiting!.length === 0) pending.delete(text);
            answer(id, text, -1, problem);
          },
        );
        return id;
      },

      /** Leaves an app channel: no more of its messages arrive. 0, or -1 if this engine has not registered it. */
      network_channel_unregister(channel: number): number {
        const number = requireNumber(channel, "channel", "network_channel_unregister");
        const entry = stats.get(number);
        if (entry === undefined || byName.get(entry.name) !== number) return -1;
        byName.delete(entry.name);
        const unregister = (): void => {
          if (net.signaling.state === "open" || net.signaling.suspended) net.signaling.send(Channel.CONTROL, ControlType.CHANNEL_UNREGISTER, ChannelUnregister.encode({ channel: number }), Priority.HIGH);
        };
        // After the messages still being sealed, so they leave before it, as they would unencrypted.
        if (net.e2e.channelsOut.busy) net.e2e.channelsOut.run(unregister);
        else unregister();
        return 0;
      },

      /**
       * Sends bytes [0, size) of `buffer` on an app channel to every other engine of the app
       * registered on it, as a message of `packet_type` (0–65535) at `priority`
       * (network_priority_*). Returns `size`, NETWORK_SEND_FAILED (-1: not registered, not
       * connected) or NETWORK_SEND_TOO_LARGE (-2: over the server's frame size).
       */
      network_channel_send(channel: number, packet_type: number, buffer: number, size: number, priority: number = Priority.NORMAL): number {
        const fn = "network_channel_send";
        const number = requireNumber(channel, "channel", fn);
        const type = requireNumber(packet_type, "packet_type", fn);
        if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: packet_type must be a whole number from 0 to 65535, not ${type}`);
        const level = requireNumber(priority, "priority", fn);
        if (level !== Priority.CRITICAL && level !== Priority.HIGH && level !== Priority.NORMAL && level !== Priority.LOW) {
          throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: ${String(priority)} is not a priority (network_priority_critical 0, _high 1, _normal 2, _low 3)`);
        }
        const bytes = bufferRange(context, buffer, size, fn);
        const count = bytes.length;
        const entry = stats.get(number);
        if (entry === undefined || byName.get(entry.name) !== number) return NETWORK_SEND_FAILED;
        const key = net.e2e.current();
        const overhead = key === undefined ? 0 : SEQUENCED_SEAL_OVERHEAD;
        if (count + overhead > (net.signaling.welcome?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE)) return NETWORK_SEND_TOO_LARGE;
        if (key !== undefined) {
          if (!net.online) return NETWORK_SEND_FAILED;
          // Sealed asynchronously (WebCrypto), side by side; sent in the order they were written.
          const seq = net.e2e.nextSeq();
          const aad = additionalData(SealKind.CHANNEL, net.host.localIp, seq, number, type);
          const copy = bytes.slice();
          net.e2e.channelsOut.pipe(
            key.then((k) => seal(k, aad, copy, seq)),
            (sealed) => void net.signaling.send(number, type, sealed, level),
          );
        }
        // encodeFrame copies the bytes, so the script may reuse its buffer at once.
        else if (!net.signaling.send(number, type, bytes, level)) return NETWORK_SEND_FAILED;
        entry.packets_sent++;
        entry.bytes_sent += count;
        return count;
      },
    },
    /** Every channel this engine has registered (unregistered ones too), by number. */
    stats(): ChannelStats[] {
      return [...stats.values()].sort((a, b) => a.channel - b.channel).map((entry) => ({ ...entry }));
    },
  };
}
