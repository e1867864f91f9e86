import { afterAll, afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GGML_TYPE, gguf, ggufNumber, readGguf, writeGguf } from "../models/ggufFile.js";
import { demoModelKey, demoModelPath, ensureDemoModel } from "./demoModel.js";
import { SHIPPED_DEMO_MODEL_PATH, shippedDemoModelKey } from "./shippedDemoModel.js";

const dir = mkdtempSync(join(tmpdir(), "shipped-demo-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let cache: string;
const previousCache = process.env.GL_RL_CACHE_DIR;
beforeEach(() => {
  cache = mkdtempSync(join(dir, "cache-"));
  process.env.GL_RL_CACHE_DIR = cache;
});
afterEach(() => {
  if (previousCache === undefined) delete process.env.GL_RL_CACHE_DIR;
  else process.env.GL_RL_CACHE_DIR = previousCache;
});

/** A minimal GGUF tagged with `key` (or untagged). */
function taggedFile(name: string, key?: string): string {
  const path = join(dir, name);
  const metadata = new Map([["general.architecture", gguf.string("qwen2")]]);
  if (key !== undefined) metadata.set("gl_rl.demo_model.key", gguf.string(key));
  writeGguf(path, { metadata, tensors: [{ name: "x", shape: [4], type: GGML_TYPE.F32, data: new Float32Array(4) }] });
  return path;
}

describe("the shipped demo model (data/demo-model.gguf)", () => {
  test("is the current recipe's model, stored at q8_0", () => {
    const key = demoModelKey();
    // On failure the recipe, the train split, the vocabulary corpus or a prompt text changed since the file
    // was written: rebuild it with `npm run demo-model` (≈ 7–10 min) and commit data/demo-model.gguf.
    expect({ shipped: shippedDemoModelKey(), recipe: key }).toEqual({ shipped: key, recipe: key });
    expect(ggufNumber(readGguf(SHIPPED_DEMO_MODEL_PATH), "general.file_type")).toBe(7);
  });

  test("ensureDemoModel returns it at once and builds nothing", async () => {
    const phases: string[] = [];
    expect(await ensureDemoModel({ onProgress: (e) => phases.push(e.phase) })).toBe(SHIPPED_DEMO_MODEL_PATH);
    expect(phases).toEqual(["done"]);
    expect(demoModelPath()).toBe(SHIPPED_DEMO_MODEL_PATH);
    expect(readdirSync(cache)).toEqual([]);
  });

  test("a file with another recipe's key, no key, or damaged bytes is never used", () => {
    const cached = join(cache, `demo-model-${demoModelKey()}.gguf`);
    expect(demoModelPath({ shipped: taggedFile("other.gguf", "0123456789abcdef") })).toBe(cached);
    expect(demoModelPath({ shipped: taggedFile("untagged.gguf") })).toBe(cached);
    const damaged = join(dir, "damaged.gguf");
    writeFileSync(damaged, "GGUF but not really");
    expect(shippedDemoModelKey(damaged)).toBeUndefined();
    expect(demoModelPath({ shipped: damaged })).toBe(cached);
    expect(shippedDemoModelKey(join(dir, "absent.gguf"))).toBeUndefined();
  });

  test("a matching file elsewhere is used; shipped: false and force skip it", () => {
    const copy = join(dir, "copy.gguf");
    copyFileSync(SHIPPED_DEMO_MODEL_PATH, copy);
    expect(demoModelPath({ shipped: copy })).toBe(copy);
    const cached = join(cache, `demo-model-${demoModelKey()}.gguf`);
    expect(demoModelPath({ shipped: false })).toBe(cached);
    expect(demoModelPath({ force: true })).toBe(cached);
    // Another recipe (here a short build) has another key, so the shipped file does not match it.
    expect(demoModelPath({ steps: 3 })).toBe(join(cache, `demo-model-${demoModelKey({ steps: 3 })}.gguf`));
  });
});
