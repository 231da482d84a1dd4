/** The naming bridge between the wire's camelCase JSON and GML's snake_case keys. */
import { describe, expect, it } from "vitest";
import { bodyKeys, camelToSnake, parseBody, snakeKeys, snakeToCamel } from "../../src/master/load.js";

describe("master key conversion", () => {
  it("snake_cases every field name the protocol uses", () => {
    const names = {
      roomId: "room_id",
      maxPlayers: "max_players",
      hasPassword: "has_password",
      accountId: "account_id",
      expiresInMs: "expires_in_ms",
      retryAfterMs: "retry_after_ms",
      fromId: "from_id",
      partyId: "party_id",
      ip: "ip",
      token: "token",
      ipURL: "ip_url",
      v2Name: "v2_name",
    };
    for (const [camel, snake] of Object.entries(names)) expect(camelToSnake(camel), camel).toBe(snake);
  });

  it("camelCases GML option names", () => {
    const cases: Array<[gml: string, camel: string]> = [["not_full", "notFull"], ["no_password", "noPassword"], ["max_players", "maxPlayers"], ["limit", "limit"]];
    for (const [gml, camel] of cases) expect(snakeToCamel(gml), gml).toBe(camel);
  });

  it("converts nested objects and arrays of objects, and leaves room properties as the game named them", () => {
    const body = {
      total: 1,
      rooms: [{ roomId: 7, maxPlayers: 4, hasPassword: false, properties: { mapName: "dunes", gameMode: { innerKey: 1 } }, members: ["annBell"] }],
      nested: { deeperField: { lastOne: true } },
    };
    expect(snakeKeys(body)).toEqual({
      total: 1,
      rooms: [{ room_id: 7, max_players: 4, has_password: false, properties: { mapName: "dunes", gameMode: { innerKey: 1 } }, members: ["annBell"] }],
      nested: { deeper_field: { last_one: true } },
    });
  });

  it("gives no keys for bodies that are not JSON objects, and reads bodies that are not JSON as {}", () => {
    expect(bodyKeys([1, 2])).toEqual({});
    expect(bodyKeys("text")).toEqual({});
    expect(bodyKeys(null)).toEqual({});
    expect(parseBody(new Uint8Array(0))).toEqual({});
    expect(parseBody(new TextEncoder().encode("{not json"))).toEqual({});
    expect(parseBody(new TextEncoder().encode('{"roomId":3,"name":"é"}'))).toEqual({ roomId: 3, name: "é" });
  });
});
