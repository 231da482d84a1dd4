/**
 * Who is online: live sessions by app key and virtual IP, and the host names they claimed.
 * Clients of different app keys live in separate maps, so they can never find each other.
 */
import type { Session } from "../session/session.js";

interface App {
  readonly byIp: Map<number, Session>;
  readonly names: Map<string, Session>;
}

export class Directory {
  private readonly apps = new Map<string, App>();
  private readonly namesOf = new Map<Session, string>();

  private app(appKey: string): App {
    let app = this.apps.get(appKey);
    if (app === undefined) {
      app = { byIp: new Map(), names: new Map() };
      this.apps.set(appKey, app);
    }
    return app;
  }

  /** The live session holding this identity's address, if any (to be replaced by a new login). */
  holder(appKey: string, virtualIp: number): Session | undefined {
    return this.apps.get(appKey)?.byIp.get(virtualIp);
  }

  add(session: Session): void {
    this.app(session.appKey).byIp.set(session.virtualIp, session);
  }

  remove(session: Session): void {
    const app = this.apps.get(session.appKey);
    if (app === undefined) return;
    if (app.byIp.get(session.virtualIp) === session) app.byIp.delete(session.virtualIp);
    const name = this.namesOf.get(session);
    if (name !== undefined && app.names.get(name) === session) app.names.delete(name);
    this.namesOf.delete(session);
    if (app.byIp.size === 0 && app.names.size === 0) this.apps.delete(session.appKey);
  }

  lookup(appKey: string, virtualIp: number): Session | undefined {
    return this.apps.get(appKey)?.byIp.get(virtualIp);
  }

  sessions(appKey: string): Iterable<Session> {
    return this.apps.get(appKey)?.byIp.values() ?? [];
  }

  /** Claims `name` (case-insensitive) for the session; false if another live session holds it. A session holds one name. */
  claim(session: Session, name: string): boolean {
    const key = name.toLowerCase();
    const app = this.app(session.appKey);
    const holder = app.names.get(key);
    if (holder !== undefined && holder !== session) return false;
    const previous = this.namesOf.get(session);
    if (previous !== undefined && previous !== key) app.names.delete(previous);
    app.names.set(key, session);
    this.namesOf.set(session, key);
    return true;
  }

  /** The host name the session claimed (lower-cased), if any. */
  nameOf(session: Session): string | undefined {
    return this.namesOf.get(session);
  }

  resolve(appKey: string, name: string): number | undefined {
    return this.apps.get(appKey)?.names.get(name.toLowerCase())?.virtualIp;
  }

  get size(): number {
    let count = 0;
    for (const app of this.apps.values()) count += app.byIp.size;
    return count;
  }
}
