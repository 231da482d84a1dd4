/**
 * The restart check every storage backend must pass: identities connected to one server get the
 * same virtual IPs from the next server on the same storage, and a secret is only an identity
 * within its app key.
 */
import { expect } from "vitest";
import type { GmnetServer } from "../../src/index.js";
import { ProtocolClient } from "./protocol-client.js";

export async function expectIdentitiesSurviveRestart(start: () => Promise<GmnetServer>): Promise<void> {
  const first = await start();
  let a: ProtocolClient & { welcome: { virtualIp: number } };
  let b: typeof a;
  try {
    [a, b] = await Promise.all([ProtocolClient.connect(first.address().wsUrl, { appKey: "persist" }), ProtocolClient.connect(first.address().wsUrl, { appKey: "persist" })]);
    expect(a.welcome.virtualIp).not.toBe(b.welcome.virtualIp);
  } finally {
    await first.close();
  }
  const second = await start();
  try {
    const url = second.address().wsUrl;
    const [a2, b2] = await Promise.all([ProtocolClient.connect(url, { appKey: "persist", secret: a.secret }), ProtocolClient.connect(url, { appKey: "persist", secret: b.secret })]);
    expect(a2.welcome.virtualIp).toBe(a.welcome.virtualIp);
    expect(b2.welcome.virtualIp).toBe(b.welcome.virtualIp);
    // The same secret under another app key is another identity.
    const elsewhere = await ProtocolClient.connect(url, { appKey: "other", secret: a.secret });
    expect(elsewhere.welcome.virtualIp).not.toBe(a.welcome.virtualIp);
    for (const client of [a2, b2, elsewhere]) client.close();
  } finally {
    await second.close();
  }
}
