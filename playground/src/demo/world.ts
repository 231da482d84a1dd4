/**
 * Who is in the game: the local player (simulated here) and the remote ones (drawn from their
 * interpolated snapshots). Sessions add and remove remote players; rendering and the UI read them.
 * No DOM, no network.
 */
import { type Sample, SnapshotBuffer } from "./interpolation.js";
import type { PlayerInfo, Position } from "./protocol.js";
import { type Body, spawn } from "./simulation.js";

export interface LocalPlayer {
  /** 0 until the host has given this tab an id (guests); the host is always 1. */
  id: number;
  name: string;
  ip: string;
  body: Body;
}

export interface RemotePlayer extends PlayerInfo {
  readonly snapshots: SnapshotBuffer;
  /** The last measured UDP round trip to this player (PING/PONG), ms; only for players this tab talks to directly. */
  pingMs: number | undefined;
}

/** A player as drawn and listed this frame. */
export interface PlayerView {
  readonly id: number;
  readonly name: string;
  readonly ip: string;
  readonly local: boolean;
  readonly x: number;
  readonly y: number;
  /** Remote players: how the position was made; undefined before their first snapshot (not drawn). */
  readonly mode?: Sample["mode"];
  readonly visible: boolean;
  /** Remote players this tab pings: the round trip, ms. */
  readonly pingMs?: number;
}

export class World {
  readonly local: LocalPlayer = { id: 0, name: "", ip: "", body: spawn() };
  readonly remotes = new Map<number, RemotePlayer>();

  addRemote(info: PlayerInfo): void {
    if (info.id === this.local.id || this.remotes.has(info.id)) return;
    this.remotes.set(info.id, { ...info, snapshots: new SnapshotBuffer(), pingMs: undefined });
  }

  removeRemote(id: number): RemotePlayer | undefined {
    const player = this.remotes.get(id);
    this.remotes.delete(id);
    return player;
  }

  /** Forgets everyone else (the session ended). */
  clearRemotes(): void {
    this.remotes.clear();
  }

  /** A POSITION datagram arrived at local time `now`. False when it was dropped (unknown player, or out of order). */
  receive(position: Position, now: number): boolean {
    const player = this.remotes.get(position.player);
    if (player === undefined) return false;
    return player.snapshots.push(position, now);
  }

  /** Everyone as they should be drawn at local time `now`: the local player first. */
  view(now: number): PlayerView[] {
    const { local } = this;
    const views: PlayerView[] = [{ id: local.id, name: local.name, ip: local.ip, local: true, x: local.body.x, y: local.body.y, visible: true }];
    for (const remote of this.remotes.values()) {
      const sample = remote.snapshots.sample(now);
      views.push({
        id: remote.id,
        name: remote.name,
        ip: remote.ip,
        local: false,
        x: sample?.x ?? 0,
        y: sample?.y ?? 0,
        mode: sample?.mode,
        visible: sample !== undefined,
        pingMs: remote.pingMs,
      });
    }
    return views;
  }

  /** Out-of-order packets dropped, over every remote player. */
  get droppedOutOfOrder(): number {
    let dropped = 0;
    for (const remote of this.remotes.values()) dropped += remote.snapshots.dropped;
    return dropped;
  }
}

/** A colour per player id, spread around the colour wheel (golden angle), the same in every tab. */
export function playerColour(id: number): string {
  return `hsl(${Math.round((id * 137.508) % 360)} 80% 62%)`;
}
