import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { createActorRuntime } from "../runtime/actorRuntime.js";
import { DEMO_SCHEMA_PATH } from "../sql/demoDatabase.js";
import { openDatabase } from "../sql/openDatabase.js";
import { schemaFromDdl } from "../sql/schemaModel.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { createSqlRewardEnvironment } from "../rewards/sqlRewardEnvironment.js";
import { evaluateRewards, rewardFeedback } from "./rewardEvaluatorAgent.js";
import { executeCandidates, validateCandidates } from "./validatorAgent.js";

const schema = schemaFromDdl(readFileSync(DEMO_SCHEMA_PATH, "utf8"));
let db: SqlExecutor;
beforeAll(async () => {
  db = await openDatabase("demo");
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe("validator agent", () => {
  test("verdicts per candidate (sql/validateSql): valid, unknown table, refused, unparsable", async () => {
    const rt = createActorRuntime();
    const sqls = [
      "SELECT count(*) FROM projects",
      "SELECT * FROM spaceships",
      "DROP TABLE projects",
      "SELECT FROM WHERE",
      "SELECT count(*) FROM projects",
    ];
    const verdicts = await rt.call(validateCandidates, { sqls, schema });
    expect(verdicts.map((v) => v.valid)).toEqual([true, false, false, false, true]);
    expect(verdicts[1]!.errors[0]!.code).toBe("unknown_table");
    expect(verdicts[2]!.errors.map((e) => e.code)).toContain("unsafe_not_read_only");
    expect(verdicts[3]!.errors[0]!.code).toBe("syntax_error");
    expect(verdicts[4]).toBe(verdicts[0]); // duplicates validated once
    await rt.dispose();
  });

  test("a validator that throws rejects the call", async () => {
    const rt = createActorRuntime({ retries: 0 });
    await expect(
      rt.call(validateCandidates, {
        sqls: ["SELECT 1"],
        validate: async () => {
          throw new Error("validator down");
        },
      }),
    ).rejects.toThrow("validator down");
    await rt.dispose();
  });

  test("executeCandidates: each distinct SQL once, failures as outcomes", async () => {
    const rt = createActorRuntime();
    const outcomes = await rt.call(executeCandidates, {
      sqls: ["SELECT count(*) AS n FROM projects", "SELECT nope FROM projects", "SELECT count(*) AS n FROM projects"],
      executor: db,
    });
    expect(outcomes[0]!.ok && outcomes[0]!.result.rows[0]![0]).toBe(
      (await db.execute("SELECT count(*) FROM projects")).rows[0]![0],
    );
    expect(outcomes[1]!.ok).toBe(false);
    expect(!outcomes[1]!.ok && outcomes[1]!.error).toMatch(/nope/);
    expect(outcomes[2]).toBe(outcomes[0]);
    await rt.dispose();
  });
});

describe("reward evaluator agent", () => {
  test("scores against the gold query and explains each score", async () => {
    const rt = createActorRuntime();
    const environment = await createSqlRewardEnvironment(db);
    const gold = "SELECT name FROM projects WHERE status = 'active'";
    const candidates = [
      {
        question: "active projects",
        completion: "SELECT p.name FROM projects p WHERE p.status = 'active'",
        sql: "SELECT p.name FROM projects p WHERE p.status = 'active'",
        goldSql: gold,
      },
      {
        question: "active projects",
        completion: "SELECT name FROM projects",
        sql: "SELECT name FROM projects",
        goldSql: gold,
      },
      { question: "active projects", completion: "no idea", sql: null, goldSql: gold },
      { question: "active projects", completion: "DROP TABLE projects", sql: "DROP TABLE projects", goldSql: gold },
    ];
    const evaluation = await rt.call(evaluateRewards, { candidates, environment });
    expect(evaluation.samples.map((s) => s.match)).toEqual([true, false, undefined, undefined]);
    expect(evaluation.totals[0]!).toBeGreaterThan(evaluation.totals[1]!);
    expect(evaluation.totals[1]!).toBeGreaterThan(evaluation.totals[3]!);
    expect(evaluation.feedback[0]).toMatch(/^correct/);
    expect(evaluation.feedback[1]).toMatch(/differs .*rows? vs \d+ rows? expected/);
    expect(evaluation.feedback[2]).toBe("no SQL found in the answer");
    expect(evaluation.feedback[3]).toMatch(/refused/);
    expect(
      rewardFeedback({
        question: "q",
        completion: "SELECT 1",
        sql: "SELECT 1",
        execution: { ok: true, result: { columns: [], rows: [[1]], rowCount: 1, truncated: false, elapsedMs: 0 } },
      }),
    ).toMatch(/no gold query/);
    await rt.dispose();
  }, 60_000);
});
