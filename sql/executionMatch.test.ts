import { executionMatch } from "./executionMatch.js";
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
