/**
 * The demo database (data/schema.sql + the deterministic seed), cached on disk as a PGlite dump.
 *
 * A fresh PGlite plus schema and seed costs ~3–5 s and ~750 MB; loading a saved dump ~0.6 s
 * (uncompressed, 61 MB; the gzipped 6.7 MB one took 1.0 s to load). So:
 * 1. The cache key is sha256(schema.sql bytes + "\0" + SEED_VERSION), first 16 hex digits.
 * 2. `demoDatabaseDump()` returns, in order: the dump already read in this process; the file
 *    `<cacheDir>/demo-<key>.tar`; or a fresh build (PGlite in a worker: schema, seed, the reader
 *    role, `dumpDataDir("none")`) written atomically — a temp file in the same directory, then
 *    `rename` — so concurrent processes never read a half-written dump. A cache that cannot be written
 *    (read-only home) is not an error: the dump is kept in memory only.
 * 3. `openDemoDatabase()` starts a PGlite executor from that dump (in memory: nothing is ever written
 *    back, so every open sees the pristine seed).
 *
 * The cache directory is `$GL_RL_CACHE_DIR`, default `~/.cache/gl-rl`.
 *
 * @example
 * const demo = await openDemoDatabase();
 * const { rows } = await demo.execute("SELECT count(*) FROM employees"); // [[240]]
 * await demo.close();
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir } from "../runtime/environment.js";
import { seedDemoDatabase, SEED_VERSION } from "../data/seedDemoDatabase.js";
import {
  createPgliteExecutor,
  READER_ROLE_SQL,
  type PgliteExecutor,
  type PgliteExecutorOptions,
} from "./pgliteExecutor.js";

/** data/schema.sql of this checkout / package. */
export const DEMO_SCHEMA_PATH = fileURLToPath(new URL("../data/schema.sql", import.meta.url));

/** The DDL of the demo database (data/schema.sql). */
export async function demoSchemaSql(): Promise<string> {
  return readFile(DEMO_SCHEMA_PATH, "utf8");
}

/** 16 hex digits of sha256(schema.sql + "\0" + SEED_VERSION): changes when either changes. */
export async function demoDatabaseKey(): Promise<string> {
  const schema = await readFile(DEMO_SCHEMA_PATH);
  return createHash("sha256").update(schema).update("\0").update(SEED_VERSION).digest("hex").slice(0, 16);
}

/** Where the cached dump lives (it may not exist yet). */
export async function demoDumpPath(): Promise<string> {
  return join(cacheDir(), `demo-${await demoDatabaseKey()}.tar`);
}

/** The admin SQL that builds the demo database in an empty PGlite: schema, seed rows, reader role. */
export async function demoDatabaseSql(): Promise<string[]> {
  return [await demoSchemaSql(), seedDemoDatabase(), READER_ROLE_SQL];
}

/** Schema + seed + reader role into an (empty) executor. Used by `db init` and the cache build. */
export async function seedInto(executor: PgliteExecutor): Promise<void> {
  for (const sql of await demoDatabaseSql()) await executor.admin(sql);
}

const memo = new Map<string, Promise<Uint8Array>>();

/** How the last `demoDatabaseDump()` of this process got its bytes (for logs and benchmarks). */
export type DemoDumpSource = "memory" | "cache" | "built";
let lastSource: DemoDumpSource | undefined;
export const lastDemoDumpSource = (): DemoDumpSource | undefined => lastSource;

/** The demo database as an (uncompressed) PGlite dump: from memory, the disk cache, or built and cached. */
export async function demoDatabaseDump(): Promise<Uint8Array> {
  const path = await demoDumpPath();
  const known = memo.get(path);
  if (known) {
    lastSource = "memory";
    return known;
  }
  const loading = loadOrBuild(path);
  memo.set(path, loading);
  loading.catch(() => memo.delete(path));
  return loading;
}

async function loadOrBuild(path: string): Promise<Uint8Array> {
  try {
    const bytes = new Uint8Array(await readFile(path));
    lastSource = "cache";
    return bytes;
  } catch {
    // Not cached yet (or unreadable): build it.
  }
  const builder = await createPgliteExecutor({ description: "demo (building)" });
  let bytes: Uint8Array;
  try {
    await seedInto(builder);
    bytes = await builder.dump("none");
  } finally {
    await builder.close();
  }
  lastSource = "built";
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch {
    await unlink(temp).catch(() => undefined);
  }
  return bytes;
}

/** Opens the demo database (in memory, from the cached dump). */
export async function openDemoDatabase(
  options: Omit<PgliteExecutorOptions, "dump" | "dataDir"> = {},
): Promise<PgliteExecutor> {
  const dump = await demoDatabaseDump();
  return createPgliteExecutor({ description: "demo", ...options, dump });
}
