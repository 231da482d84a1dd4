/**
 * CPU time of a process this one did not fork (redis-server), from /proc/<pid>/stat: utime + stime
 * of all its threads, in clock ticks. Linux only; elsewhere the benchmark prints "—" for it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/** Clock ticks per second of /proc's times (getconf CLK_TCK; 100 on Linux when getconf is missing). */
const ticksPerSecond = ((): number => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/** The process whose executable name is `comm` and whose command line mentions `port`, if /proc shows one. */
export function findProcess(comm: string, port: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== comm) continue;
      // redis-server rewrites its title to "redis-server 127.0.0.1:<port>"; before that, "--port <port>".
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 :]/);
      if (args.includes(String(port))) return Number(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

/** The process's user + system CPU time so far in microseconds, or NaN if it cannot be read. */
export function processCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The name (field 2) is in parentheses and may contain spaces: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / ticksPerSecond) * 1e6;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time every process on the machine used so far (all cores: /proc/stat's user, nice, system,
 * irq, softirq and steal), in microseconds, or NaN if it cannot be read. The benchmark subtracts
 * its own processes to show what other work competed for the cores while it measured.
 */
export function machineCpuMicros(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n").find((text) => text.startsWith("cpu "));
    if (line === undefined) return Number.NaN;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const ticks = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
    return (ticks / ticksPerSecond) * 1e6;
  } catch {
    return Number.NaN;
  }
}
