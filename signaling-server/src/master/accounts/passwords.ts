/**
 * Password hashes (PROTOCOL.md §16.3): scrypt from node:crypto, stored as
 * `scrypt$N$r$p$saltB64$hashB64` with a 16-byte random salt and a 32-byte key. Verification
 * uses the parameters stored in the hash, so the cost can be raised later without breaking old
 * hashes, and compares in constant time. Hashing runs on libuv's thread pool; a limiter keeps at
 * most `maxConcurrent` running and `maxQueued` waiting, and refuses more with `busy`.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { MasterFailure } from "../outcome.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";

export const SALT_BYTES = 16;
export const KEY_BYTES = 32;
export const BLOCK_SIZE = 8;

export interface ScryptParams {
  /** N, a power of two. */
  readonly cost: number;
  /** r. */
  readonly blockSize: number;
  /** p. */
  readonly parallelism: number;
}

export interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

export interface PasswordHasherOptions {
  /** N for new hashes. */
  readonly cost: number;
  /** p for new hashes. */
  readonly parallelism: number;
  readonly maxConcurrent: number;
  readonly maxQueued: number;
}

// Bounds for parameters read back from a stored hash: what this server could have written,
// with room to raise the cost, but never a value that would make one verification hog memory.
const MAX_COST = 1 << 20;
const MAX_BLOCK_SIZE = 32;
const MAX_PARALLELISM = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export class PasswordHasher {
  private readonly limiter: ConcurrencyLimiter;
  private readonly params: ScryptParams;
  /** A hash of no password: LOGIN for an unknown user verifies against it to take as long. */
  private readonly dummy: ParsedHash;

  constructor(options: PasswordHasherOptions) {
    this.params = { cost: options.cost, blockSize: BLOCK_SIZE, parallelism: options.parallelism };
    this.limiter = new ConcurrencyLimiter(options.maxConcurrent, options.maxQueued);
    // Random bytes in place of a key: no password matches it, and checking costs a full scrypt.
    this.dummy = { params: this.params, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };
  }

  /** A new hash of `password` in the stored format. Throws MasterFailure `busy` when the queue is full. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await this.limited(() => derive(password, salt, KEY_BYTES, this.params));
    return formatHash({ params: this.params, salt, key });
  }

  /** Whether `password` matches `stored`; false for a stored value that is not a valid hash. */
  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parseHash(stored);
    if (parsed === undefined) return this.verifyDummy(password);
    return this.check(password, parsed);
  }

  /** Takes as long as verifying a real hash, and is always false. */
  async verifyDummy(password: string): Promise<false> {
    await this.check(password, this.dummy);
    return false;
  }

  private async check(password: string, stored: ParsedHash): Promise<boolean> {
    const key = await this.limited(() => derive(password, stored.salt, stored.key.length, stored.params));
    return timingSafeEqual(key, stored.key);
  }

  private limited<T>(task: () => Promise<T>): Promise<T> {
    const running = this.limiter.tryRun(task);
    if (running === undefined) throw new MasterFailure("busy", "the server is busy checking passwords; try again shortly");
    return running;
  }
}

export function formatHash(hash: ParsedHash): string {
  const { cost, blockSize, parallelism } = hash.params;
  return `scrypt$${cost}$${blockSize}$${parallelism}$${hash.salt.toString("base64")}$${hash.key.toString("base64")}`;
}

/** The parts of a stored hash, or undefined if it is not one this server can check. */
export function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [cost, blockSize, parallelism] = parts.slice(1, 4).map((part) => (/^[1-9][0-9]{0,9}$/.test(part) ? Number(part) : NaN)) as [number, number, number];
  if (!(cost >= 2 && cost <= MAX_COST && (cost & (cost - 1)) === 0)) return undefined;
  if (!(blockSize >= 1 && blockSize <= MAX_BLOCK_SIZE) || !(parallelism >= 1 && parallelism <= MAX_PARALLELISM)) return undefined;
  const [salt, key] = [parts[4]!, parts[5]!].map((part) => (BASE64.test(part) ? Buffer.from(part, "base64") : Buffer.alloc(0))) as [Buffer, Buffer];
  if (salt.length < 8 || key.length < 16 || key.length > 64) return undefined;
  return { params: { cost, blockSize, parallelism }, salt, key };
}

function derive(password: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  const { cost: N, blockSize: r, parallelism: p } = params;
  // OpenSSL needs 128·r·(N + 2) bytes for V plus 128·r·p for B; Node's default cap is 32 MiB.
  const maxmem = 128 * r * (N + 2 + p) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, length, { N, r, p, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
