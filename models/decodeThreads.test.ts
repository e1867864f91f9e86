import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeThreads } from "./loadModel.js";

describe("decodeThreads: the default decode threads of a model file", () => {
  const dir = mkdtempSync(join(tmpdir(), "gl-rl-threads-"));
  const small = join(dir, "small.gguf");
  const large = join(dir, "large.gguf");
  writeFileSync(small, Buffer.alloc(2 * 1024 * 1024));
  writeFileSync(large, "");
  truncateSync(large, 65 * 1024 * 1024); // sparse: no disk used
  const saved = process.env.GL_RL_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.GL_RL_THREADS;
    else process.env.GL_RL_THREADS = saved;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a small model decodes on one thread, a large one on every physical core", () => {
    delete process.env.GL_RL_THREADS;
    expect(decodeThreads({ maxThreads: 6 }, small)).toBe(1);
    expect(decodeThreads({ maxThreads: 6 }, large)).toBe(6);
  });

  test("GL_RL_THREADS, when set, wins for any size", () => {
    process.env.GL_RL_THREADS = "3";
    expect(decodeThreads({ maxThreads: 3 }, small)).toBe(3);
    process.env.GL_RL_THREADS = " ";
    expect(decodeThreads({ maxThreads: 6 }, small)).toBe(1);
  });
});
