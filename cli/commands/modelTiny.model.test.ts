import { describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ggufNumber, ggufString, readGguf } from "../../models/ggufFile.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "model-tiny-cli-"));

describe("gl-rl model tiny", () => {
  test("writes a deterministic qwen2 GGUF for a seed", async () => {
    const a = join(dir, "a.gguf");
    const b = join(dir, "b.gguf");
    const { stdout } = await run("node", [
      "bin/gl-rl.mjs",
      "model",
      "tiny",
      "--out",
      a,
      "--seed",
      "3",
      "--layers",
      "1",
      "--json",
    ]);
    const info = JSON.parse(stdout) as { vocabSize: number; dims: { layers: number } };
    await run("node", ["bin/gl-rl.mjs", "model", "tiny", "--out", b, "--seed", "3", "--layers", "1"]);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const file = readGguf(a);
    expect(ggufString(file, "general.architecture")).toBe("qwen2");
    expect(ggufNumber(file, "qwen2.block_count")).toBe(1);
    expect(file.tensors.find((t) => t.name === "token_embd.weight")!.shape).toEqual([128, info.vocabSize]);
  }, 60_000);

  test("bad flags exit 2 with a one-line message", async () => {
    const failure = await run("node", [
      "bin/gl-rl.mjs",
      "model",
      "tiny",
      "--out",
      join(dir, "c.gguf"),
      "--heads",
      "3",
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stderr: string }).stderr).toMatch(
      /^gl-rl: tiny model: embedding 128 is not divisible by heads 3/,
    );
    const missing = await run("node", ["bin/gl-rl.mjs", "model", "tiny"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((missing as { stderr: string }).stderr).toMatch(/--out <file.gguf> is required/);
  }, 60_000);
});
