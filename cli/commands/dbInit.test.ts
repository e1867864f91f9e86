// Through the real binary: db init creates a persistent database that exec then reads.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { runGlRl } from "../runGlRl.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = (args: string[]) => runGlRl(args, { timeoutMs: 90_000 });

describe("gl-rl db init", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gl-rl-dbinit-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("seeds pglite:<dir>, which exec can then query; a second init exits 2", async () => {
    const db = `pglite:${join(dir, "db")}`;
    const init = await cli(["db", "init", "--db", db, "--json"]);
    expect(init.code).toBe(0);
    const report = JSON.parse(init.stdout);
    expect(report.tables.employees).toBe(240);
    expect(report.tables.journal_lines).toBeGreaterThanOrEqual(5000);
    const query = await cli(["exec", "--db", db, "--sql", "SELECT count(*)::int AS n FROM timesheets", "--json"]);
    expect(query.code).toBe(0);
    expect(JSON.parse(query.stdout).rows).toEqual([{ n: report.tables.timesheets }]);
    const again = await cli(["db", "init", "--db", db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already initialised/);
  }, 120_000);

  it("exits 2 without --db or with demo", async () => {
    expect((await cli(["db", "init"])).code).toBe(2);
    expect((await cli(["db", "init", "--db", "demo"])).code).toBe(2);
  }, 60_000);
});
