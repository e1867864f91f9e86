import { afterEach, describe, expect, test } from "@jest/globals";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { cacheDir, defaultCpuThreads, packageRoot } from "./environment.js";

const saved = { GL_RL_THREADS: process.env.GL_RL_THREADS, GL_RL_CACHE_DIR: process.env.GL_RL_CACHE_DIR };
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("cacheDir", () => {
  test("GL_RL_CACHE_DIR when set and not empty, else ~/.cache/gl-rl", () => {
    process.env.GL_RL_CACHE_DIR = "/srv/cache";
    expect(cacheDir()).toBe("/srv/cache");
    process.env.GL_RL_CACHE_DIR = "";
    expect(cacheDir()).toBe(join(homedir(), ".cache", "gl-rl"));
    delete process.env.GL_RL_CACHE_DIR;
    expect(cacheDir()).toBe(join(homedir(), ".cache", "gl-rl"));
  });
});

describe("defaultCpuThreads", () => {
  test("GL_RL_THREADS wins over the physical cores; unset or empty gives the cores", () => {
    process.env.GL_RL_THREADS = "3";
    expect(defaultCpuThreads(8)).toBe(3);
    delete process.env.GL_RL_THREADS;
    expect(defaultCpuThreads(8)).toBe(8);
    expect(defaultCpuThreads()).toBeGreaterThanOrEqual(1);
    process.env.GL_RL_THREADS = " ";
    expect(defaultCpuThreads(6)).toBe(6);
  });

  test.each(["0", "-2", "1.5", "two"])("GL_RL_THREADS=%s is refused with the fix", (value) => {
    process.env.GL_RL_THREADS = value;
    expect(() => defaultCpuThreads(4)).toThrow(
      expect.objectContaining({ code: "input", message: `GL_RL_THREADS must be a positive integer, got "${value}"` }),
    );
  });
});

describe("packageRoot", () => {
  test("is the folder whose package.json is gl-rl's, with the shipped data in it", () => {
    const root = packageRoot();
    expect(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name).toBe("gl-rl");
    expect(existsSync(join(root, "data", "schema.sql"))).toBe(true);
    expect(packageRoot()).toBe(root);
  });
});
