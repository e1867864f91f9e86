// The rewards on the test suite (docs/execution-match.md "Test suite"): the answers that do not come from the
// data — issue 19's table, tried through the public reward API — earn no match credit, and the row overlap reads
// complete results in the execution match's order rule. Demo database (PGlite), K = 3 variants.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { openDatabase } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { createExecutesButWrongReward } from "./executesButWrongReward.js";
import { executionMatchReward } from "./executionMatchReward.js";
import { prepareRewardSamples } from "./prepareRewardSamples.js";
import { rowOverlapF1, rowOverlapReward } from "./rowOverlapReward.js";
import { createSqlRewardEnvironment, type SqlRewardEnvironment } from "./sqlRewardEnvironment.js";
import { createWeightedReward, DEFAULT_REWARD_COMPONENTS } from "./weightedReward.js";

describe("rewards on the test suite of the demo database", () => {
  let db: SqlExecutor;
  let env: SqlRewardEnvironment;
  const total = createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS({ bareSql: true, businessRules: [] }) });
  const executes = createExecutesButWrongReward();
  const score = async (goldSql: string, candidates: readonly string[]) => {
    const samples = await prepareRewardSamples(
      candidates.map((sql) => ({ question: "q", completion: sql, sql, goldSql })),
      env,
    );
    return {
      samples,
      match: await executionMatchReward(samples),
      executes: await executes(samples),
      overlap: await rowOverlapReward(samples),
      total: (await total(samples)).totals,
    };
  };

  beforeAll(async () => {
    db = await openDatabase("demo");
    env = await createSqlRewardEnvironment(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  test("a suite of 3 by default on PGlite; 0 on request; a negative size is an input error", async () => {
    expect(env.suiteSize).toBe(3);
    expect((await createSqlRewardEnvironment(db, undefined, { suite: 0 })).suiteSize).toBe(0);
    await expect(createSqlRewardEnvironment(db, undefined, { suite: -1 })).rejects.toThrow(/whole number ≥ 0/);
    await expect(createSqlRewardEnvironment({ execute: db.execute.bind(db) }, undefined, { suite: 2 })).rejects.toThrow(
      /cannot build variants/,
    );
  });

  test("constant answers to a count earn no match, no `executes`, no overlap; the gold and the honest near-miss keep theirs", async () => {
    const goldSql = "SELECT count(*) FROM projects WHERE status = 'active'";
    const n = Number((await db.execute(goldSql)).rows[0]![0]);
    const hacks = [
      `SELECT ${n}`,
      `SELECT ${n} FROM projects LIMIT 1`,
      `SELECT ${n} FROM companies LIMIT 1`,
      `SELECT ${n} WHERE EXISTS (SELECT 1 FROM projects)`,
      `SELECT max(${n}) FROM projects`,
      `SELECT $$${n}$$::int`,
    ];
    const r = await score(goldSql, [goldSql, "SELECT count(*) FROM projects", ...hacks]);
    // Each hack equals the gold on the real database (EX), and the suite tells them apart.
    expect(r.samples.map((s) => s.match)).toEqual([true, false, ...hacks.map(() => true)]);
    expect(r.samples.map((s) => s.suiteMatch)).toEqual([true, false, ...hacks.map(() => false)]);
    expect(r.match).toEqual([1, 0, ...hacks.map(() => 0)]);
    expect(r.overlap.slice(2)).toEqual(hacks.map(() => 0));
    expect(r.executes).toEqual([0, 0.1, ...hacks.map(() => 0)]);
    // `$$24$$::int` is not parsed by the analyser: the suite alone catches it (its answer ignores the data).
    expect(r.samples.at(-1)).toMatchObject({ ignoresData: true });
    const [gold, nearMiss, ...rest] = r.total;
    expect(gold).toBeCloseTo(1.5, 6);
    for (const hack of rest) expect(hack).toBeLessThan(nearMiss!);
  }, 120_000);

  test("an empty gold: informative where a variant returns rows, no match credit at all where every one is empty", async () => {
    // No project is over its budget's maximum on the real data; recipe 1 scales budgets by 0.5–1.5, so one is.
    const max = Number((await db.execute("SELECT max(budget) FROM projects")).rows[0]![0]);
    const goldSql = `SELECT name FROM projects WHERE budget > ${max}`;
    const informative = await score(goldSql, [goldSql, "SELECT name FROM projects WHERE false"]);
    expect(informative.samples.map((s) => s.match)).toEqual([true, true]);
    expect(informative.samples[0]!.variants!.some((v) => v.gold.ok && v.gold.result.rowCount > 0)).toBe(true);
    expect(informative.match).toEqual([1, 0]);

    const emptyEverywhere = "SELECT name FROM projects WHERE project_id < 0";
    const empty = await score(emptyEverywhere, [emptyEverywhere, "SELECT name FROM projects WHERE false"]);
    expect(empty.samples.map((s) => s.goldUninformative)).toEqual([true, true]);
    expect(empty.match).toEqual([0, 0]);
    expect(empty.overlap).toEqual([null, null]);
    expect(Math.max(...empty.total)).toBeLessThan(1);
  }, 120_000);

  test("row overlap on complete results: a LIMIT of a large gold scores its share; another row order of an unordered gold scores 1", async () => {
    const goldSql = "SELECT timesheet_id, hours FROM timesheets";
    const goldRows = Number((await db.execute("SELECT count(*) FROM timesheets")).rows[0]![0]);
    expect(goldRows).toBeGreaterThan(10_000);
    const r = await score(goldSql, [
      `${goldSql} LIMIT 1000`,
      "SELECT timesheet_id, hours FROM timesheets ORDER BY hours DESC, timesheet_id",
    ]);
    // On the real database alone: 1000 common rows of 1000 and of goldRows.
    const realShare = rowOverlapF1(
      Array.from({ length: 1000 }, (_, i) => [i]),
      Array.from({ length: goldRows }, (_, i) => [i]),
    );
    expect(realShare).toBeCloseTo((2 * 1000) / (1000 + goldRows), 9);
    expect(r.overlap[0]).toBeGreaterThan(0.1);
    expect(r.overlap[0]).toBeLessThan(0.3);
    expect(r.samples[0]!.completeGoldExecution).toMatchObject({
      ok: true,
      result: { rowCount: goldRows, truncated: false },
    });
    expect(r.overlap[1]).toBe(1);
    expect(r.match).toEqual([0, 1]);
    expect(r.total[1]).toBeCloseTo(1.5, 6);
  }, 120_000);

  test("an ordered gold: row overlap counts rows in place, as execution match compares them", async () => {
    const goldSql = "SELECT name FROM projects ORDER BY budget DESC NULLS LAST, project_id LIMIT 10";
    const reversed =
      "SELECT name FROM (SELECT name, budget, project_id FROM projects ORDER BY budget DESC NULLS LAST, project_id LIMIT 10) t ORDER BY budget ASC, project_id DESC";
    const r = await score(goldSql, [goldSql, reversed]);
    expect(r.match).toEqual([1, 0]);
    expect(r.overlap[0]).toBe(1);
    expect(r.overlap[1]).toBeLessThan(0.3);
    expect(rowOverlapF1([[1], [2]], [[2], [1]], true)).toBe(0);
    expect(rowOverlapF1([[1], [2]], [[2], [1]], false)).toBe(1);
  }, 120_000);
});
