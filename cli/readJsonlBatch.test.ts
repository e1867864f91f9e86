import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isInputError } from "../errors.js";
import { readJsonlBatch } from "./readJsonlBatch.js";

describe("readJsonlBatch", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gl-rl-jsonl-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const failure = async (promise: Promise<unknown>): Promise<{ message: string; hint?: string }> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInputError(error)).toBe(true);
    return error as { message: string; hint?: string };
  };

  it("reads ids and fields, skipping blank lines; a missing id becomes the line number", async () => {
    const path = await write(
      "ok.jsonl",
      '{"id":"q1","sql":"SELECT 1"}\n\n{"id":7,"sql":"SELECT 2","extra":true}\n{"sql":"SELECT 3"}\n',
    );
    expect(await readJsonlBatch(path, ["sql"])).toEqual([
      { line: 1, id: "q1", fields: { sql: "SELECT 1" } },
      { line: 3, id: 7, fields: { sql: "SELECT 2" } },
      { line: 4, id: 4, fields: { sql: "SELECT 3" } },
    ]);
  });

  it("names the line of bad JSON, a non-object and a missing field", async () => {
    expect((await failure(readJsonlBatch(await write("a.jsonl", '{"sql":"x"}\n{oops\n'), ["sql"]))).message).toMatch(
      /line 2 is not JSON/,
    );
    expect((await failure(readJsonlBatch(await write("b.jsonl", "[1,2]\n"), ["sql"]))).message).toMatch(
      /line 1 is not a JSON object/,
    );
    const missing = await failure(
      readJsonlBatch(await write("c.jsonl", '{"gold":"x"}\n{"gold":"y","candidate":3}\n'), ["gold", "candidate"]),
    );
    expect(missing.message).toMatch(/line 1 has no string field "candidate"/);
    expect(missing.hint).toContain('"gold": "…", "candidate": "…"');
  });

  it("reports a missing file", async () => {
    expect((await failure(readJsonlBatch(join(dir, "nope.jsonl"), ["sql"]))).message).toMatch(
      /cannot read .*nope\.jsonl: ENOENT/,
    );
  });
});
