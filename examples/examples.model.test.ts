/**
 * Runs every example top to bottom with a tiny model (GL_RL_MODEL: a path; default an untrained tiny
 * model written here in seconds — it answers badly, which the examples must survive).
 */
import { beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeTinyModel } from "../models/writeTinyModel.js";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "examples-"));
let modelPath = process.env.GL_RL_MODEL ?? "";

beforeAll(async () => {
  if (modelPath === "") {
    modelPath = join(dir, "tiny.gguf");
    await writeTinyModel({
      out: modelPath,
      seed: 5,
      dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 },
    });
  }
}, 120_000);

async function runExample(name: string): Promise<string> {
  const { stdout } = await exec("node", ["--import", "tsx", join("examples", name)], {
    env: { ...process.env, GL_RL_MODEL: modelPath, GL_RL_EXAMPLES_LIMIT: "2" },
    timeout: 420_000,
    maxBuffer: 16 * 2 ** 20,
  });
  return stdout;
}

describe("examples run top to bottom", () => {
  test("askQuestion", async () => {
    const out = await runExample("askQuestion.ts");
    expect(out).toMatch(/^question: +Show all active projects with budget over 100000$/m);
    expect(out).toMatch(/^confidence: +[01]\.\d\d$/m);
  }, 480_000);

  test("langchainAgent", async () => {
    const out = await runExample("langchainAgent.ts");
    // The ReAct agent called the tool, and the tool ran gl-rl's agent: its answer JSON came back as the tool message.
    const toolLine = /^tool +(\{.*\})$/m.exec(out);
    expect(toolLine).not.toBeNull();
    const answer = JSON.parse(toolLine![1]!) as { sql: unknown; rows: unknown; confidence: unknown };
    expect(Object.keys(answer)).toEqual(expect.arrayContaining(["sql", "rows", "confidence", "warnings"]));
    expect(out).toMatch(/^ai +The database says: \{/m);
  }, 480_000);

  test("embedAsSubgraph", async () => {
    const out = await runExample("embedAsSubgraph.ts");
    expect(out).toMatch(/^route: +(sent to review|answered with \d+ rows)/m);
  }, 480_000);

  test("scriptedWorkflow", async () => {
    const out = await runExample("scriptedWorkflow.ts");
    expect(out).toMatch(/^ask /m);
    expect(out).toMatch(
      /read as: read as a follow-up of the previous question: "Show all active projects with budget over 100000 now only those starting in 2024"/,
    );
    expect(out).toMatch(/the correction was a candidate: true/);
  }, 480_000);

  test("watchEvents", async () => {
    const out = await runExample("watchEvents.ts");
    expect(out).toMatch(/started: How many employees are in each department\?/);
    expect(out.match(/candidate \d \(T=/g)?.length).toBeGreaterThanOrEqual(8);
    expect(out).toMatch(/selected: /);
    expect(out).toMatch(/node done: respond/);
  }, 480_000);

  test("evaluateDev", async () => {
    const out = await runExample("evaluateDev.ts");
    expect(out).toMatch(/^execution accuracy: \d\/2 = [01]\.\d\d$/m);
    expect(out.match(/^[✓✗] reward/gm)).toHaveLength(2);
  }, 480_000);
});
