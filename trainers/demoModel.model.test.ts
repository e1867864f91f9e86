/**
 * The demo model's two paths on a machine with an empty cache (GL_RL_CACHE_DIR = a fresh folder):
 * - the shipped file answers `gl-rl ask` at once, quietly, building nothing;
 * - a changed recipe (here a 2-step build, which has its own key) is built on first use and cached, and a
 *   file written by `gl-rl model demo` for that recipe is then used instead of building.
 */
import { afterAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ggufNumber, ggufString, readGguf } from "../models/ggufFile.js";
import { demoModelKey, ensureDemoModel } from "./demoModel.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "demo-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the demo model with an empty cache", () => {
  test("gl-rl ask answers with the shipped model, builds no model, prints nothing on stderr that reads like an error", async () => {
    const cache = join(dir, "ask-cache");
    const started = Date.now();
    const { stdout, stderr } = await run(
      "node",
      ["bin/gl-rl.mjs", "ask", "Show all active projects with budget over 100000", "--json"],
      { env: { ...process.env, GL_RL_CACHE_DIR: cache }, timeout: 120_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    const answer = JSON.parse(stdout) as { sql: string | null; rows: unknown[] };
    expect(answer.sql).toMatch(/^SELECT .* FROM projects/);
    expect(stderr).not.toMatch(/error|failed|building/i);
    expect(readdirSync(cache).filter((f) => f.startsWith("demo-model-"))).toEqual([]);
    expect(seconds).toBeLessThan(60);
  }, 150_000);

  test("a changed recipe is built on first use; `gl-rl model demo` tags its file with that recipe's key", async () => {
    const cache = join(dir, "build-cache");
    const env = { ...process.env, GL_RL_CACHE_DIR: cache };
    const out = join(dir, "quick-q8_0.gguf");
    const { stdout, stderr } = await run(
      "node",
      ["bin/gl-rl.mjs", "model", "demo", "--steps", "2", "--threads", "1", "--out", out, "--json"],
      { env, timeout: 150_000 },
    );
    const written = JSON.parse(stdout) as { key: string; source: string; precision: string; bytes: number };
    const previousCache = process.env.GL_RL_CACHE_DIR;
    process.env.GL_RL_CACHE_DIR = cache;
    try {
      const key = demoModelKey({ steps: 2 });
      expect(written).toMatchObject({ key, precision: "q8_0", source: join(cache, `demo-model-${key}.gguf`) });
      expect(key).not.toBe(demoModelKey()); // not the shipped recipe: it had to be built
      expect(existsSync(written.source)).toBe(true);
      expect(stderr).toMatch(/\] 2\/2 100%/); // the trainer's progress bar reached both steps
      const file = readGguf(out);
      expect(ggufString(file, "gl_rl.demo_model.key")).toBe(key);
      expect(ggufNumber(file, "general.file_type")).toBe(7);
      expect(JSON.parse(ggufString(file, "gl_rl.demo_model.recipe")!)).toMatchObject({ version: 3, steps: 2 });

      // The tagged file is preferred to the cached build; another recipe's file is not.
      const phases: string[] = [];
      expect(await ensureDemoModel({ steps: 2, shipped: out, onProgress: (e) => phases.push(e.phase) })).toBe(out);
      expect(phases).toEqual(["done"]);
      expect(await ensureDemoModel({ steps: 2, shipped: false })).toBe(written.source);
    } finally {
      if (previousCache === undefined) delete process.env.GL_RL_CACHE_DIR;
      else process.env.GL_RL_CACHE_DIR = previousCache;
    }
  }, 180_000);
});
