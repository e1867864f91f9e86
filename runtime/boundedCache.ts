/**
 * A bounded LRU cache with a time to live, for generations, schema introspection and gold results.
 *
 * - At most `maxEntries` entries; setting one more evicts the least recently used.
 * - An entry older than `ttlMs` is a miss (and is dropped when seen). `ttlMs: Infinity` never expires.
 * - `getOrCreate(key, create)` stores the *promise*, so concurrent callers share one computation; a
 *   rejected computation is removed so the next call tries again.
 * - Keys are strings; `cacheKey(parts)` makes a stable one from a plain object (sorted keys, SHA-256).
 *
 * @example
 * const generations = new BoundedCache<Promise<Completion[]>>({ maxEntries: 512, ttlMs: 10 * 60_000 });
 * const key = generationCacheKey({ question, schemaFingerprint, params, adapter });
 * const completions = await generations.getOrCreate(key, () => model.generateCandidates(prompt, 4));
 */
import { createHash } from "node:crypto";
import { InputError } from "../errors.js";

export interface BoundedCacheOptions {
  /** Entries kept. Default 256. */
  maxEntries?: number;
  /** Milliseconds an entry lives. Default Infinity. */
  ttlMs?: number;
  /** Clock (tests inject one). Default Date.now. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
}

/** LRU + TTL (see the file comment). */
export class BoundedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Lookups that found a live entry / that did not. */
  hits = 0;
  misses = 0;

  constructor(options: BoundedCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 256;
    this.ttlMs = options.ttlMs ?? Infinity;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new InputError(`cache maxEntries must be a positive integer, got ${this.maxEntries}`);
    if (!(this.ttlMs > 0))
      throw new InputError(`cache ttlMs must be > 0, got ${this.ttlMs}`, { hint: "use Infinity for no expiry" });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live value, refreshed as most recently used; undefined when absent or expired. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    if (this.now() - entry.storedAt >= this.ttlMs) {
      this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    return entry.value;
  }

  has(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && this.now() - entry.storedAt < this.ttlMs;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: this.now() });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** The cached value, or `create()`'s, stored; a rejected promise is not kept. */
  getOrCreate(key: string, create: () => V): V {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = create();
    this.set(key, value);
    if (value instanceof Promise) {
      value.catch(() => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      });
    }
    return value;
  }
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** A stable key for a plain object: key order and undefined fields do not matter. */
export function cacheKey(parts: Record<string, unknown>): string {
  return createHash("sha256")
    .update(JSON.stringify(stable(parts)))
    .digest("hex")
    .slice(0, 32);
}

/** The key of one generation: same question, schema, sampling and adapter → same candidates. */
export function generationCacheKey(parts: {
  question: string;
  schemaFingerprint: string;
  params: Record<string, unknown>;
  adapter: string | null;
  mode?: string;
}): string {
  return `gen:${cacheKey({ ...parts, question: parts.question.trim().replace(/\s+/g, " ").toLowerCase() })}`;
}

/** The key of one database's introspected schema. */
export function schemaCacheKey(databaseDescription: string): string {
  return `schema:${databaseDescription}`;
}

/** The key of one gold query's result on one database. */
export function goldResultCacheKey(databaseDescription: string, goldSql: string): string {
  return `gold:${cacheKey({ db: databaseDescription, sql: goldSql.trim() })}`;
}
