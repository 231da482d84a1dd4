import { describe, expect, it } from "vitest";
import { ConfigError, configFromArgs, defaultConfig, validateConfig } from "../src/config.js";

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
  ])("refuses %j", (argv, message) => {
    expect(() => configFromArgs(argv, {})).toThrow(ConfigError);
    expect(() => configFromArgs(argv, {})).toThrow(message);
  });

  it("refuses an ICE server list too large for the ICE_SERVERS message once credentials are added", () => {
    const iceServers = Array.from({ length: 60 }, (_, i) => ({ urls: `turn:turn-${i}.example.com:3478?transport=udp` }));
    expect(() => validateConfig({ ...defaultConfig, iceServers })).not.toThrow(); // fits without credentials…
    expect(() => configFromArgs(["--ice-servers", JSON.stringify(iceServers), "--turn-secret", "s"], {})).toThrow(/8192/); // …but not with them
  });
});
