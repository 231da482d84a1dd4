/**
 * The engine-wide settings a script can change — every network_set_config setting that is not a
 * socket's (the link simulation, the message size limit, the connect timeout, the tick rate,
 * WebRTC, ICE servers, the WebSocket protocol, the signaling URL and the app key), and the http_*
 * and master_* timeouts — and how the end of a run puts them back to the engine's defaults, so
 * nothing a run set carries over into the next one.
 *
 * The defaults are read from a fresh engine (createEngine(), never used, so it holds nothing and
 * connects nowhere), not written down a second time here: the playground's engine is the default
 * engine, made by the same createEngine() with no options, so its defaults are the same.
 *
 * Not settings, so not here: per-socket ones (network_config_enable_reliable_udp, a socket's
 * message size limit) end with their socket; a host name claimed with network_config_hostname is
 * the tab's own until its connection ends (the engine has no call to give one back).
 */
import type { Engine } from "@gmnet/engine";

/** What these functions need of an engine: the @gmnet/engine module itself, or one from createEngine(). */
export type SettingsEngine = Pick<
  Engine,
  | "network_get_config"
  | "network_set_config"
  | "http_get_connect_timeout"
  | "http_set_connect_timeout"
  | "http_get_request_crossorigin"
  | "http_set_request_crossorigin"
  | "master_get_timeout"
  | "master_set_timeout"
  | NetworkConfigName
>;

type NetworkConfigName = Extract<keyof Engine, `network_config_${string}`>;

export interface EngineSetting {
  /** The function or network_config_* constant that sets it. */
  readonly name: string;
  /** Short, for the console's "Stopped" line: "latency", "app key". */
  readonly label: string;
  /**
   * Part of the engine's identity on the signaling server (signaling URL, app key): it only
   * applies when the engine next connects, so a connection made with another value has to end.
   */
  readonly identity: boolean;
  read(engine: SettingsEngine): unknown;
  write(engine: SettingsEngine, value: unknown): void;
}

function networkConfig(name: NetworkConfigName, label: string, identity = false): EngineSetting {
  return {
    name,
    label,
    identity,
    read: (engine) => engine.network_get_config(engine[name]),
    write: (engine, value) => void engine.network_set_config(engine[name], value),
  };
}

/** Every engine-wide setting a script can change, in the order they are put back. */
export const ENGINE_SETTINGS: readonly EngineSetting[] = [
  networkConfig("network_config_simulate_latency", "latency"),
  networkConfig("network_config_simulate_jitter", "jitter"),
  networkConfig("network_config_simulate_loss", "loss"),
  networkConfig("network_config_message_size_limit", "message size limit"),
  networkConfig("network_config_connect_timeout", "connect timeout"),
  networkConfig("network_config_tick_rate", "tick rate"),
  networkConfig("network_config_enable_webrtc", "WebRTC"),
  networkConfig("network_config_ice_servers", "ICE servers"),
  networkConfig("network_config_websocket_protocol", "WebSocket protocol"),
  networkConfig("network_config_signaling_url", "signaling URL", true),
  networkConfig("network_config_app_key", "app key", true),
  {
    name: "http_set_connect_timeout",
    label: "http connect timeout",
    identity: false,
    read: (engine) => engine.http_get_connect_timeout(),
    write: (engine, value) => engine.http_set_connect_timeout(value as number),
  },
  {
    name: "http_set_request_crossorigin",
    label: "http crossorigin",
    identity: false,
    read: (engine) => engine.http_get_request_crossorigin(),
    write: (engine, value) => engine.http_set_request_crossorigin(value as string),
  },
  {
    name: "master_set_timeout",
    label: "master timeout",
    identity: false,
    read: (engine) => engine.master_get_timeout(),
    write: (engine, value) => engine.master_set_timeout(value as number),
  },
];

/** The values of every setting, by name. */
export type SettingsSnapshot = ReadonlyMap<string, unknown>;

/** Reads every setting of `engine`. */
export function readSettings(engine: SettingsEngine): SettingsSnapshot {
  return new Map(ENGINE_SETTINGS.map((setting) => [setting.name, setting.read(engine)]));
}

/** The engine's defaults, read from a fresh engine made with `createEngine` (which is never used for anything else). */
export function defaultSettings(createEngine: () => SettingsEngine): SettingsSnapshot {
  return readSettings(createEngine());
}

/** Values compared by content: the ICE server list is an array. */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** What restoreSettings did. */
export interface RestoredSettings {
  /** The settings that differed from the defaults and were put back. */
  readonly restored: readonly EngineSetting[];
  /** Whether one of them was the signaling URL or the app key. */
  readonly identity: boolean;
  /** Settings that could not be put back (the engine refused the default), with why. */
  readonly failed: ReadonlyArray<{ readonly setting: EngineSetting; readonly error: unknown }>;
}

/** Puts every setting of `engine` that differs from `defaults` back to its default. Never throws. */
export function restoreSettings(engine: SettingsEngine, defaults: SettingsSnapshot): RestoredSettings {
  const restored: EngineSetting[] = [];
  const failed: Array<{ setting: EngineSetting; error: unknown }> = [];
  for (const setting of ENGINE_SETTINGS) {
    if (!defaults.has(setting.name)) continue;
    const wanted = defaults.get(setting.name);
    try {
      if (sameValue(setting.read(engine), wanted)) continue;
      setting.write(engine, wanted);
      restored.push(setting);
    } catch (error) {
      failed.push({ setting, error });
    }
  }
  return { restored, identity: restored.some((setting) => setting.identity), failed };
}
