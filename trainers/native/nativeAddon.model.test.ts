/**
 * Installed as a dependency, npm 11 skips gl-rl's install script: the first load of the extension builds it
 * (progress on stderr). Here: a fresh process with GL_RL_NATIVE_DIR pointing at an empty folder builds the addon
 * there from the package's sources, loads it through node-llama-cpp's ggml and lists the CPU device.
 */
import { describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

describe("the native extension on first use", () => {
  test("a missing addon is built on load (into GL_RL_NATIVE_DIR), then loads and sees node-llama-cpp's devices", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gl-rl-native-build-"));
    try {
      const script = [
        `const { loadNativeAddon } = await import(${JSON.stringify(join(process.cwd(), "trainers", "native", "nativeAddon.ts"))});`,
        'const addon = await loadNativeAddon("cpu");',
        "console.log(JSON.stringify(addon.systemInfo()));",
      ].join("\n");
      // A file, not `-e`: node-llama-cpp tests its binary in a child that inherits this process's execArgv.
      const file = join(dir, "load.mts");
      writeFileSync(file, script);
      const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", file], {
        env: { ...process.env, GL_RL_NATIVE_DIR: dir },
        timeout: 240_000,
      });
      expect(stderr).toMatch(/not built; building it now/);
      expect(existsSync(join(dir, "build", "Release", "gl_rl_native.node"))).toBe(true);
      const info = JSON.parse(stdout.trim().split("\n").pop()!) as { ggmlVersion: string; devices: string[] };
      expect(info.devices.some((d) => d.startsWith("CPU ["))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 250_000);
});
