import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isDatabaseError, isInputError } from "../errors.js";
import { demoDatabaseDump, demoDatabaseKey, demoDumpPath, lastDemoDumpSource } from "./demoDatabase.js";
import { openDatabase, parseDatabaseSpec } from "./openDatabase.js";

describe("parseDatabaseSpec", () => {
  it("accepts demo, pglite:<dir> and postgres URLs", () => {
    expect(parseDatabaseSpec(undefined)).toEqual({ kind: "demo" });
    expect(parseDatabaseSpec("demo")).toEqual({ kind: "demo" });
    expect(parseDatabaseSpec("pglite:./x/db")).toEqual({ kind: "pglite", dataDir: resolve("./x/db") });
    expect(parseDatabaseSpec("postgresql://u:p@h:1/d")).toEqual({ kind: "postgres", url: "postgresql://u:p@h:1/d" });
    expect(parseDatabaseSpec("postgres://u@h/d")).toEqual({ kind: "postgres", url: "postgres://u@h/d" });
  });

  it("rejects anything else with an InputError and a hint", () => {
    for (const spec of ["mysql://x", "sqlite:foo.db", "pglite:", "demo2"]) {
      let error: unknown;
      try {
        parseDatabaseSpec(spec);
      } catch (e) {
        error = e;
      }
      expect(isInputError(error)).toBe(true);
      expect((error as { hint?: string }).hint).toMatch(/--db demo/);
    }
  });
});

describe("openDatabase and the demo cache", () => {
  const saved = process.env.GL_RL_CACHE_DIR;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "gl-rl-cache-"));
    process.env.GL_RL_CACHE_DIR = join(root, "a");
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.GL_RL_CACHE_DIR;
    else process.env.GL_RL_CACHE_DIR = saved;
    await rm(root, { recursive: true, force: true });
  });

  it("builds the demo dump once, caches it atomically and reuses it", async () => {
    expect(await demoDatabaseKey()).toMatch(/^[0-9a-f]{16}$/);
    const first = await demoDatabaseDump();
    expect(lastDemoDumpSource()).toBe("built");
    const path = await demoDumpPath();
    expect((await stat(path)).size).toBe(first.byteLength);
    expect((await readdir(join(root, "a"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(await demoDatabaseDump()).toBe(first);
    expect(lastDemoDumpSource()).toBe("memory");
    // Another cache directory holding the same file: read from disk, not rebuilt.
    process.env.GL_RL_CACHE_DIR = join(root, "b");
    await mkdir(join(root, "b"));
    await copyFile(path, await demoDumpPath());
    const fromDisk = await demoDatabaseDump();
    expect(lastDemoDumpSource()).toBe("cache");
    expect(Buffer.from(fromDisk).equals(Buffer.from(first))).toBe(true);
  }, 90_000);

  it("opens demo with the seeded rows, sandboxed", async () => {
    const db = await openDatabase("demo");
    try {
      expect(db.description).toBe("demo");
      expect((await db.execute("SELECT count(*)::int FROM employees")).rows).toEqual([[240]]);
      const error = await db.execute("DELETE FROM employees").catch((e: unknown) => e);
      expect(isDatabaseError(error) && error.code).toBe("read_only_violation");
    } finally {
      await db.close();
    }
  }, 60_000);

  it("refuses an uninitialised pglite directory with the db init hint", async () => {
    const dir = join(root, "empty");
    const error = await openDatabase(`pglite:${dir}`).catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe("db_not_initialised");
    expect((error as { hint?: string }).hint).toBe(`create it with 'gl-rl db init --db pglite:${dir}'`);
  });

  it("reports an unreachable PostgreSQL server fast", async () => {
    const started = performance.now();
    const error = await openDatabase("postgres://postgres:secret@127.0.0.1:1/postgres").catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe("db_unreachable");
    expect((error as Error).message).not.toContain("secret");
    expect(performance.now() - started).toBeLessThan(3500);
  });
});
