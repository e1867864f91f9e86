import { COMPLETE_RESULT_MAX_ROWS, executionMatch, executionMatchComplete, hasOuterOrderBy } from "./executionMatch.js";
import type { ExecutionOutcome } from "./sqlExecutor.js";

function ok(cols: string[], rows: unknown[][]): ExecutionOutcome {
  return {
    ok: true,
    result: {
      columns: cols.map((name) => ({ name })) as never,
      rows,
      rowCount: rows.length,
      truncated: false,
      elapsedMs: 0,
    },
  };
}
const err: ExecutionOutcome = { ok: false, kind: "timeout", code: "TIMEOUT", error: "statement ran past 1000 ms" };

const cases: Array<[string, ExecutionOutcome, ExecutionOutcome, boolean, boolean]> = [
  ["identical", ok(["a"], [[1], [2]]), ok(["a"], [[1], [2]]), false, true],
  [
    "permuted columns",
    ok(
      ["a", "b"],
      [
        [1, "x"],
        [2, "y"],
      ],
    ),
    ok(
      ["b", "a"],
      [
        ["x", 1],
        ["y", 2],
      ],
    ),
    false,
    true,
  ],
  ["row order ignored without ORDER BY", ok(["a"], [[1], [2]]), ok(["a"], [[2], [1]]), false, true],
  ["row order matters with ORDER BY", ok(["a"], [[1], [2]]), ok(["a"], [[2], [1]]), true, false],
  ["duplicates count", ok(["a"], [[1], [1], [2]]), ok(["a"], [[1], [2], [2]]), false, false],
  ["numeric string vs float", ok(["s"], [["10.50"]]), ok(["s"], [[10.5]]), false, true],
  ["bigint string vs integer", ok(["n"], [["42"]]), ok(["n"], [[42]]), false, true],
  ["within tolerance", ok(["x"], [[1 / 3]]), ok(["x"], [[0.3333333334]]), false, true],
  ["outside tolerance", ok(["x"], [[1]]), ok(["x"], [[1.001]]), false, false],
  ["NULL equals NULL", ok(["a", "b"], [[null, 1]]), ok(["a", "b"], [[null, 1]]), false, true],
  ["NULL is not zero", ok(["a"], [[null]]), ok(["a"], [[0]]), false, false],
  ["both empty", ok(["a"], []), ok(["a"], []), false, true],
  ["empty vs rows", ok(["a"], []), ok(["a"], [[1]]), false, false],
  ["extra column", ok(["a"], [[1]]), ok(["a", "b"], [[1, 2]]), false, false],
  ["candidate error", ok(["a"], [[1]]), err, false, false],
  ["gold error", err, ok(["a"], [[1]]), false, false],
  ["timeout both", err, err, false, false],
];

describe("executionMatch", () => {
  it.each(cases)("%s", (_name, gold, cand, ordered, expected) => {
    const verdict = executionMatch(gold, cand, { ordered });
    expect(verdict.match).toBe(expected);
    expect(verdict.reason.length).toBeGreaterThan(0);
  });
  it("finds the permutation among 8 columns quickly", () => {
    const rows = Array.from({ length: 200 }, (_, i) => Array.from({ length: 8 }, (_, k) => i * 10 + k));
    const perm = [7, 3, 5, 0, 6, 1, 4, 2];
    const t0 = Date.now();
    const v = executionMatch(
      ok(["c"], rows).ok
        ? {
            ok: true,
            result: {
              columns: perm.map((k) => ({ name: `c${k}` })) as never,
              rows,
              rowCount: 200,
              truncated: false,
              elapsedMs: 0,
            },
          }
        : err,
      ok(
        perm.map((k) => `c${k}`),
        rows.map((r) => perm.map((k) => r[k])),
      ),
      { ordered: false },
    );
    expect(v.match).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

/** The first `kept` rows of `rows`, marked cut when there were more. */
function cutAt(cols: string[], rows: unknown[][], kept: number): ExecutionOutcome {
  const o = ok(cols, rows.slice(0, kept));
  if (o.ok) o.result.truncated = rows.length > kept;
  return o;
}
const count = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [from + i]);

describe("executionMatch on cut (truncated) results", () => {
  it("never calls two results equal because their first rows agree", () => {
    // gold: 1..1500, candidate: 1..1000 then 7s — the same first 1000 rows, cut at 1000.
    const gold = cutAt(["n"], count(1500), 1000);
    const candidate = cutAt(["n"], [...count(1000), ...Array.from({ length: 500 }, () => [7])], 1000);
    const v = executionMatch(gold, candidate, { ordered: true });
    expect(v).toMatchObject({ match: false, incomplete: true });
  });

  it("decides from the counts when they settle it: a cut result has more rows than the other's complete count", () => {
    expect(executionMatch(cutAt(["n"], count(1500), 1000), ok(["n"], count(40)), { ordered: false })).toMatchObject({
      match: false,
      reason: expect.stringMatching(/row count differs/),
    });
    expect(
      executionMatch(cutAt(["n"], count(1500), 1000), ok(["n"], count(40)), { ordered: false }).incomplete,
    ).toBeUndefined();
    // Cut by bytes at 3 rows while the other kept 10: the counts cannot settle it.
    expect(executionMatch(ok(["n"], count(10)), cutAt(["n"], count(10), 3), { ordered: false }).incomplete).toBe(true);
  });

  it("executionMatchComplete compares the complete results it fetches again, only for the cut side", async () => {
    const asked: string[] = [];
    const complete = (rows: Record<"gold" | "candidate", unknown[][]>) => async (which: "gold" | "candidate") => {
      asked.push(which);
      return ok(["n"], rows[which]);
    };
    const gold = cutAt(["n"], count(1500), 1000);
    const same = await executionMatchComplete(gold, cutAt(["n"], count(1500), 1000), {
      ordered: false,
      complete: complete({ gold: count(1500), candidate: count(1500) }),
    });
    expect(same.match).toBe(true);
    expect(asked.sort()).toEqual(["candidate", "gold"]);
    asked.length = 0;
    const tail = [...count(1000), ...count(500, 5000)];
    const differ = await executionMatchComplete(gold, cutAt(["n"], tail, 1000), {
      ordered: false,
      complete: complete({ gold: count(1500), candidate: tail }),
    });
    expect(differ.match).toBe(false);
    asked.length = 0;
    // Only the candidate was cut: the gold is not fetched again.
    const bytes = await executionMatchComplete(ok(["n"], count(10)), cutAt(["n"], count(10), 3), {
      ordered: false,
      complete: complete({ gold: [], candidate: count(10) }),
    });
    expect(bytes.match).toBe(true);
    expect(asked).toEqual(["candidate"]);
  });

  it("a result still cut at COMPLETE_RESULT_MAX_ROWS is no match", async () => {
    const big = cutAt(["n"], count(10), 5);
    const v = await executionMatchComplete(big, big, { ordered: false, complete: async () => big });
    expect(v.match).toBe(false);
    expect(v.reason).toContain(String(COMPLETE_RESULT_MAX_ROWS));
  });
});

describe("hasOuterOrderBy", () => {
  it.each([
    ["SELECT a FROM t ORDER BY a", true],
    ["SELECT a FROM t UNION SELECT b FROM u ORDER BY 1", true],
    ["WITH x AS (SELECT a FROM t ORDER BY a) SELECT * FROM x", false],
    ["SELECT * FROM (SELECT a FROM t ORDER BY a) s", false],
    ["SELECT rank() OVER (ORDER BY a) FROM t", false],
    ["SELECT string_agg(a, ',' ORDER BY a) FROM t", false],
    ["SELECT 'order by' FROM t -- order by a", false],
    ['SELECT "order by" FROM t /* ORDER BY */', false],
    ["select a from t\norder\n  by a desc", true],
    ["SELECT name FROM projects ORDER BY budget DESC", true],
    ["SELECT name FROM projects", false],
    ["WITH t AS (SELECT name FROM projects) SELECT name FROM t ORDER BY name", true],
  ])("%s → %s", (sql, expected) => {
    expect(hasOuterOrderBy(sql)).toBe(expected);
  });
});
