/** A CIDR range of virtual IPv4 addresses ("10.0.0.0/8"), minus its network and broadcast address. */
import { parseIpv4 } from "@gmnet/protocol";

export interface VirtualNetwork {
  readonly first: number;
  readonly last: number;
  /** Number of assignable addresses. */
  readonly size: number;
  contains(ip: number): boolean;
  /** The `index`-th assignable address, 0 ≤ index < size. */
  at(index: number): number;
}

export function parseVirtualNetwork(cidr: string): VirtualNetwork {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr.trim());
  const base = match ? parseIpv4(match[1]!) : undefined;
  const bits = match ? Number(match[2]) : NaN;
  if (base === undefined || !(bits >= 8 && bits <= 30)) {
    throw new Error(`virtual network must be an IPv4 CIDR range from /8 to /30, like 10.0.0.0/8, not ${JSON.stringify(cidr)}`);
  }
  const hostBits = 32 - bits;
  const network = base - (base % 2 ** hostBits);
  const first = network + 1;
  const last = network + 2 ** hostBits - 2;
  return {
    first,
    last,
    size: last - first + 1,
    contains: (ip) => ip >= first && ip <= last,
    at: (index) => first + index,
  };
}
