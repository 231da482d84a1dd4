import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serverSettings } from "../src/config-schema.js";
import { ConfigError, configFromArgs, defaultConfig, usage, validateConfig } from "../src/config.js";
import { createServer } from "../src/index.js";

describe("configFromArgs", () => {
  it("reads flags over environment variables over defaults", () => {
    const config = configFromArgs(["--port", "9000", "--tick-rate=30", "--allowed-origins", "https://a.example, https://b.example"], {
      PORT: "7000",
      GMNET_DB: "/tmp/x.sqlite",
      GMNET_SIGNAL_RATE_LIMIT: "50",
      GMNET_ICE_SERVERS: '[{"urls":"turn:t.example"}]',
    });
    expect(config).toMatchObject({
      port: 9000,
      tickRate: 30,
      db: "/tmp/x.sqlite",
      signalRateLimit: 50,
      allowedOrigins: ["https://a.example", "https://b.example"],
      iceServers: [{ urls: "turn:t.example" }],
      maxFrameSize: defaultConfig.maxFrameSize,
    });
  });

  it.each([
    [["--port", "70000"], /port/],
    [["--port", "-1"], /non-negative/],
    [["--unknown", "1"], /unknown option --unknown/],
    [["--port"], /needs a value/],
    [["positional"], /unexpected argument/],
    [["--tls-cert", "a.pem"], /go together/],
    [["--log-level", "loud"], /log level/],
    [["--virtual-network", "10.0.0.0/40"], /CIDR/],
    [["--ice-servers", "{"], /JSON/],
    [["--ice-servers", '[{"url":"stun:x"}]'], /urls/],
    [["--ice-servers", '[{"urls":"http://x"}]'], /urls/],
    [["--max-frame-size", "100"], /maxFrameSize/],
    [["--max-frame-size", "2000000"], /maxMessageSize/],
    [["--max-queued-bytes", "100000"], /maxQueuedBytes/],
    [["--heartbeat-interval", "0"], /heartbeat/],
    [["--turn-credential-ttl", "0"], /turnCredentialTtlSeconds/],
    [["--max-app-channels", "1001"], /1000 app channel numbers/],
    [["--mcp-token", "my-game"], /<app key>=<token>/],
    [["--mcp-token", "=0123456789abcdef"], /<app key>=<token>/],
    [["--mcp-token", "my-game=short"], /at least 16/],
    [["--mcp-token", "my-game=0123456789 abcdef"], /printable ASCII characters without spaces/],
    [["--mcp-token", "a=0123456789abcdef", "--mcp-token", "b=0123456789abcdef"], /the same token/],
    [["--mcp-max-sessions", "1001"], /1000 LLM-session channels/],
    [["--mcp-call-timeout", "0"], /mcpCallTimeoutMs/],
  ])("refuses %j", (argv, message) => {
    expect(() => configFromArgs(argv, {})).toThrow(ConfigError);
    expect(() => configFromArgs(argv, {})).toThrow(message);
  });

  it("adds every --mcp-token to the list, the first one replacing GMNET_MCP_TOKENS, and reads the MCP limits", () => {
    const env = { GMNET_MCP_TOKENS: "env-app=envtoken-0123456789, other=othertoken-0123456789", GMNET_MCP_CALL_TIMEOUT_MS: "5000" };
    expect(configFromArgs([], env)).toMatchObject({ mcpTokens: ["env-app=envtoken-0123456789", "other=othertoken-0123456789"], mcpCallTimeoutMs: 5000, mcpMaxTools: 64 });
    const config = configFromArgs(["--mcp-token", "a=atoken-0123456789", "--mcp-token=b=btoken-0123456789", "--mcp-max-tools", "8", "--mcp-allowed-origins", "https://tools.example"], env);
    expect(config).toMatchObject({ mcpTokens: ["a=atoken-0123456789", "b=btoken-0123456789"], mcpMaxTools: 8, mcpAllowedOrigins: ["https://tools.example"] });
    // One app key may have several tokens (to rotate them).
    expect(configFromArgs(["--mcp-token", "a=first-0123456789ab", "--mcp-token", "a=second-0123456789a"], {}).mcpTokens).toHaveLength(2);
    expect(usage()).toContain("--mcp-token");
  });

  it("refuses an ICE server list too large for the ICE_SERVERS message once credentials are added", () => {
    const iceServers = Array.from({ length: 60 }, (_, i) => ({ urls: `turn:turn-${i}.example.com:3478?transport=udp` }));
    expect(() => validateConfig({ ...defaultConfig, iceServers })).not.toThrow(); // fits without credentials…
    expect(() => configFromArgs(["--ice-servers", JSON.stringify(iceServers), "--turn-secret", "s"], {})).toThrow(/8192/); // …but not with them
  });
});

describe("integers", () => {
  it.each([
    ["--max-queued-bytes", "1.5", "GMNET_MAX_QUEUED_BYTES", "maxQueuedBytes"],
    ["--port", "8080.5", "PORT", "port"],
    ["--heartbeat-interval", "1000.25", "GMNET_HEARTBEAT_INTERVAL_MS", "heartbeatIntervalMs"],
    ["--mcp-max-tools", "2.5", "GMNET_MCP_MAX_TOOLS", "mcpMaxTools"],
  ])("refuses a fraction where an integer is meant: %s %s, naming the flag, its variable and its option", (flag, value, variable, option) => {
    for (const attempt of [() => configFromArgs([flag, value], {}), () => configFromArgs([], { [variable]: value })]) {
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(`${flag} must be`);
      expect(attempt).toThrow(`not ${value} (${variable}; ${option} in createServer options)`);
    }
    expect(() => validateConfig({ ...defaultConfig, [option]: Number(value) })).toThrow(ConfigError);
  });

  it("keeps fractions where they mean something (tick rates in Hz)", () => {
    expect(configFromArgs(["--tick-rate", "0.5", "--low-tick-rate=2.5"], {})).toMatchObject({ tickRate: 0.5, lowTickRate: 2.5 });
  });

  it("refuses text where a number is meant, showing it", () => {
    expect(() => configFromArgs(["--max-streams", "lots"], {})).toThrow('--max-streams must be a positive integer, not "lots"');
    expect(() => configFromArgs(["--port="], {})).toThrow(ConfigError);
  });
});

describe("usage", () => {
  it("lists every setting exactly once, with its flag, variable and default", () => {
    const text = usage();
    expect(Object.keys(serverSettings).sort()).toEqual(Object.keys(defaultConfig).sort());
    for (const [key, setting] of Object.entries(serverSettings)) {
      const lines = text.split("\n").filter((line) => line.startsWith(`  --${setting.flag} `));
      expect(lines, key).toHaveLength(1);
      expect(lines[0], key).toMatch(new RegExp(`^  --${setting.flag}\\s+${setting.env}\\b`));
      const value: unknown = setting.default;
      if (value !== undefined) expect(lines[0], key).toContain(`(default ${typeof value === "string" ? value : JSON.stringify(value)})`);
    }
    expect(text.split("\n").filter((line) => line.startsWith("  --"))).toHaveLength(Object.keys(defaultConfig).length);
  });
});

describe("database", () => {
  it("is SQLite (undefined) by default, read from --database over GMNET_DATABASE_URL, and listed in the usage", () => {
    expect(defaultConfig.database).toBeUndefined();
    expect(configFromArgs([], {}).database).toBeUndefined();
    expect(configFromArgs([], { GMNET_DATABASE_URL: "postgres://gm:pw@db.example:5432/gmnet" }).database).toBe("postgres://gm:pw@db.example:5432/gmnet");
    expect(configFromArgs(["--database", "postgresql://db.example/gmnet?sslmode=require"], { GMNET_DATABASE_URL: "postgres://other/x" }).database).toBe("postgresql://db.example/gmnet?sslmode=require");
    expect(configFromArgs(["--database=postgres:///gmnet?host=/var/run/postgresql"], {}).database).toBe("postgres:///gmnet?host=/var/run/postgresql");
    expect(usage()).toMatch(/--database\s+GMNET_DATABASE_URL/);
  });

  it("refuses anything but a postgres:// or postgresql:// URL, without repeating it (it may hold a password)", () => {
    for (const bad of ["./data/gmnet.sqlite", "mysql://u:secret-pw@h/db", "sqlite:///x.db", "postgres://u:secret-pw@[bad/db", "postgres:"]) {
      expect(() => configFromArgs(["--database", bad], {})).toThrow(ConfigError);
      expect(() => configFromArgs([], { GMNET_DATABASE_URL: bad })).toThrow(/--database \(GMNET_DATABASE_URL\) must be a PostgreSQL URL/);
      try {
        configFromArgs(["--database", bad], {});
      } catch (error) {
        expect((error as Error).message).not.toContain("secret-pw");
      }
    }
  });
});

describe("redis", () => {
  it("is a single node (undefined) by default, read from --redis over GMNET_REDIS_URL, with --node-id and --redis-stream-max-len", () => {
    expect(defaultConfig.redis).toBeUndefined();
    expect(defaultConfig.nodeId).toBeUndefined();
    expect(defaultConfig.redisStreamMaxLen).toBe(10_000);
    const database = { GMNET_DATABASE_URL: "postgres://gmnet@db.example/gmnet" };
    expect(configFromArgs([], { ...database, GMNET_REDIS_URL: "redis://cache.example:6379" }).redis).toBe("redis://cache.example:6379");
    expect(configFromArgs(["--redis", "rediss://u:pw@cache.example:6380/2"], { ...database, GMNET_REDIS_URL: "redis://other" }).redis).toBe("rediss://u:pw@cache.example:6380/2");
    expect(configFromArgs(["--node-id", "255", "--redis-stream-max-len=500"], {})).toMatchObject({ nodeId: 255, redisStreamMaxLen: 500 });
    expect(usage()).toMatch(/--redis\s+GMNET_REDIS_URL/);
    expect(usage()).toMatch(/--node-id\s+GMNET_NODE_ID/);
  });

  it("refuses anything but a redis:// or rediss:// URL without repeating it, node ids outside 1–255 and a stream bound below 1", () => {
    for (const bad of ["cache.example:6379", "http://u:secret-pw@h", "redis://u:secret-pw@[bad"]) {
      expect(() => configFromArgs(["--redis", bad], {})).toThrow(/--redis \(GMNET_REDIS_URL\) must be a Redis URL/);
      try {
        configFromArgs(["--redis", bad], {});
      } catch (error) {
        expect((error as Error).message).not.toContain("secret-pw");
      }
    }
    for (const bad of ["0", "256", "1.5"]) expect(() => configFromArgs(["--node-id", bad], {})).toThrow(/--node-id must be an integer from 1 to 255/);
    expect(() => configFromArgs(["--node-id", "-1"], {})).toThrow(ConfigError);
    expect(() => configFromArgs(["--redis-stream-max-len", "0"], {})).toThrow(ConfigError);
  });

  it("refuses --redis without a shared --database: each node's SQLite would hand out addresses of its own", () => {
    expect(() => configFromArgs(["--redis", "redis://cache.example:6379"], {})).toThrow(/--redis needs --database postgres:\/\//);
    expect(configFromArgs(["--redis", "redis://cache.example:6379", "--database", "postgres://gmnet@db.example/gmnet"], {}).database).toBe("postgres://gmnet@db.example/gmnet");
  });

  it("keeps sessions in memory by default; --durable-sessions (GMNET_DURABLE_SESSIONS) needs --redis, where they live", () => {
    const cluster = ["--redis", "redis://cache.example:6379", "--database", "postgres://gmnet@db.example/gmnet"];
    expect(defaultConfig.durableSessions).toBe(false);
    expect(configFromArgs([...cluster, "--durable-sessions", "true"], {}).durableSessions).toBe(true);
    expect(configFromArgs(cluster, { GMNET_DURABLE_SESSIONS: "1" }).durableSessions).toBe(true);
    expect(() => configFromArgs(["--durable-sessions", "true"], {})).toThrow(/--durable-sessions needs --redis redis:\/\//);
    expect(usage()).toMatch(/--durable-sessions\s+GMNET_DURABLE_SESSIONS/);
  });

  it("takes --advertise-url as a bare http(s) base URL (unset by default), refusing a path or another scheme", () => {
    expect(defaultConfig.advertiseUrl).toBeUndefined();
    expect(configFromArgs(["--advertise-url", "http://10.0.0.5:8080"], {}).advertiseUrl).toBe("http://10.0.0.5:8080");
    expect(configFromArgs([], { GMNET_ADVERTISE_URL: "https://node-2.internal" }).advertiseUrl).toBe("https://node-2.internal");
    for (const bad of ["10.0.0.5:8080", "ws://node:8080", "http://node:8080/mcp", "http://node:8080/?x=1"]) {
      expect(() => configFromArgs(["--advertise-url", bad], {})).toThrow(/--advertise-url \(GMNET_ADVERTISE_URL\) must be this node's base URL/);
    }
    expect(usage()).toMatch(/--advertise-url\s+GMNET_ADVERTISE_URL/);
  });

  it("bounds what waits for Redis with --redis-outbound-max-bytes (64 MiB by default), a positive integer", () => {
    expect(defaultConfig.redisOutboundMaxBytes).toBe(64 * 1024 * 1024);
    expect(configFromArgs([], { GMNET_REDIS_OUTBOUND_MAX_BYTES: "1048576" }).redisOutboundMaxBytes).toBe(1_048_576);
    for (const bad of ["0", "1.5"]) expect(() => configFromArgs(["--redis-outbound-max-bytes", bad], {})).toThrow(/--redis-outbound-max-bytes must be a positive integer/);
    expect(() => configFromArgs(["--redis-outbound-max-bytes", "-5"], {})).toThrow(ConfigError);
    expect(usage()).toMatch(/--redis-outbound-max-bytes\s+GMNET_REDIS_OUTBOUND_MAX_BYTES/);
  });
});

describe("staticDir", () => {
  /** Runs `check` with a fresh directory holding one file, and removes it afterwards. */
  const withDir = (check: (dir: string, file: string) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), "gmnet-config-"));
    try {
      const file = join(dir, "index.html");
      writeFileSync(file, "<!doctype html>");
      check(dir, file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("serves nothing by default", () => {
    expect(configFromArgs([], {}).staticDir).toBeUndefined();
  });

  it("is read from --static-dir over GMNET_STATIC_DIR", () => {
    withDir((dir) => {
      expect(configFromArgs([], { GMNET_STATIC_DIR: dir }).staticDir).toBe(dir);
      expect(configFromArgs([`--static-dir=${dir}`], { GMNET_STATIC_DIR: "/nowhere" }).staticDir).toBe(dir);
    });
    expect(usage()).toMatch(/--static-dir\s+GMNET_STATIC_DIR/);
  });

  it("refuses a directory that does not exist, or a file, at startup", () => {
    withDir((dir, file) => {
      const missing = join(dir, "dist");
      expect(() => configFromArgs(["--static-dir", missing], {})).toThrow(ConfigError);
      expect(() => configFromArgs(["--static-dir", missing], {})).toThrow(`staticDir ${missing} is not a directory`);
      expect(() => configFromArgs(["--static-dir", file], {})).toThrow(/is not a directory/);
      expect(() => configFromArgs(["--static-dir", ""], {})).toThrow(/staticDir must be the path of a directory/);
      // createServer validates too: the error comes before anything listens or opens a database.
      expect(() => createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", staticDir: missing })).toThrow(ConfigError);
    });
  });
});
