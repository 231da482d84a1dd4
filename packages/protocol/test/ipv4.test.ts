/**
 * IPv4 addresses as text and as the u32 the wire carries (messages.ts: formatIpv4, parseIpv4):
 * both directions round-trip, the byte order is the dotted quad's, and anything but a canonical
 * dotted quad is refused.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIpv4, parseIpv4 } from "../src/messages.js";

describe("IPv4 addresses", () => {
  it("formatIpv4 then parseIpv4 gives back every u32", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (ip) => {
        expect(parseIpv4(formatIpv4(ip))).toBe(ip);
      }),
    );
  });

  it("parseIpv4 then formatIpv4 gives back every canonical dotted quad", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (parts) => {
        const text = parts.join(".");
        const ip = parseIpv4(text);
        expect(ip).toBe(((parts[0]! * 256 + parts[1]!) * 256 + parts[2]!) * 256 + parts[3]!);
        expect(formatIpv4(ip!)).toBe(text);
      }),
    );
  });

  it("knows the byte order of the value", () => {
    expect(parseIpv4("10.0.0.1")).toBe(0x0a000001);
    expect(parseIpv4("255.255.255.255")).toBe(0xffffffff);
    expect(parseIpv4("0.0.0.0")).toBe(0);
    expect(formatIpv4(0xc0a80001)).toBe("192.168.0.1");
  });

  it.each(["256.0.0.1", "1.2.3", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4.5", "", "a.b.c.d", "1..2.3", "-1.2.3.4", "1.2.3.1000", "0x1.2.3.4", "1.2.3.+4", "1,2,3,4", "١.٢.٣.٤"])(
    "rejects %j",
    (text) => {
      expect(parseIpv4(text)).toBeUndefined();
    },
  );
});
