// Deterministic fuzzing of validateSql: ≥3000 mutations of the demo gold queries (token deletion,
// duplication, swaps, random keywords, quotes, unicode, truncation, misspelt names, very long inputs)
// with the schema and no executor, and a few hundred with the real demo PGlite. Invariants: no call
// throws, each returns a well-formed verdict within 1 s of CPU, a valid verdict implies the safety policy
// passed, and the whole run stays under 60 s of CPU.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { loadDatasetSplits } from "../data/loadDataset.js";
import { openDatabase } from "./openDatabase.js";
import { checkSafety } from "./safetyPolicy.js";
import { introspectSchema, type SchemaModel } from "./schemaModel.js";
import type { SqlExecutor } from "./sqlExecutor.js";
import { validateSql, type ValidateOptions, type ValidationResult } from "./validateSql.js";
import { mulberry32 as random } from "../runtime/mulberry32.js";

const KEYWORDS = [
  "SELECT",
  "FROM",
  "WHERE",
  "GROUP BY",
  "ORDER BY",
  "HAVING",
  "JOIN",
  "LEFT JOIN",
  "ON",
  "USING",
  "UNION",
  "(",
  ")",
  ";",
  ",",
  "*",
  "NULL",
  "AND",
  "OR",
  "NOT",
  "CASE",
  "WHEN",
  "END",
  "AS",
  "WITH",
  "LIMIT",
  "OFFSET",
  "DISTINCT",
  "DROP",
  "DELETE",
  "INTO",
  "pg_sleep(1)",
  "--",
  "/*",
  "*/",
  "::",
  "::int",
  "IN",
  "EXISTS",
  "LATERAL",
  "OVER",
  "FILTER",
  "count(*)",
  "sum(",
  "1",
  "-1e308",
  "'x'",
  "$1",
  "\\",
];
const QUOTES = ["'", '"', "$$", "E'", "''", "\\'", "`", "$x$"];
const UNICODE = [
  "é",
  "𝔘",
  "😀",
  "\u200b",
  "\u202e",
  "\u0000",
  "\uffff",
  "e\u0301",
  "数据",
  "Ω",
  "\ud800",
  "\r\n",
  "\t",
];
const NAMES = [
  "projcts",
  "custmers",
  "nme",
  "budjet",
  "journal_line",
  "debitt",
  "statu",
  "employee",
  "acount_type",
  "gl_acounts",
];

type Mutation = (tokens: string[], rnd: () => number) => string;
const pick = <T>(items: readonly T[], rnd: () => number): T => items[Math.floor(rnd() * items.length)]!;
const at = (tokens: string[], rnd: () => number): number => Math.floor(rnd() * tokens.length);
const splice = (tokens: string[], i: number, remove: number, ...insert: string[]): string => {
  const copy = [...tokens];
  copy.splice(i, remove, ...insert);
  return copy.join("");
};

const MUTATIONS: Record<string, Mutation> = {
  delete: (t, r) => splice(t, at(t, r), 1),
  duplicate: (t, r) => {
    const i = at(t, r);
    return splice(t, i, 0, t[i]!);
  },
  swap: (t, r) => {
    const i = at(t, r);
    const j = Math.min(t.length - 1, i + 1 + Math.floor(r() * 3));
    const c = [...t];
    [c[i], c[j]] = [c[j]!, c[i]!];
    return c.join("");
  },
  keyword: (t, r) => splice(t, at(t, r), 0, ` ${pick(KEYWORDS, r)} `),
  replaceWithKeyword: (t, r) => splice(t, at(t, r), 1, pick(KEYWORDS, r)),
  quote: (t, r) => splice(t, at(t, r), 0, pick(QUOTES, r)),
  unicode: (t, r) => splice(t, at(t, r), 0, pick(UNICODE, r)),
  truncate: (t, r) => t.slice(0, at(t, r)).join(""),
  misspell: (t, r) => {
    const words = t.map((x, i) => [x, i] as const).filter(([x]) => /^[a-z_]{3,}$/.test(x));
    if (words.length === 0) return t.join("");
    const [, i] = pick(words, r);
    return splice(t, i, 1, pick(NAMES, r));
  },
  upper: (t) => t.join("").toUpperCase(),
  long: (t, r) => {
    const sql = t.join("");
    switch (Math.floor(r() * 5)) {
      case 0:
        return Array.from({ length: 40 }, () => `(${sql})`).join(" UNION ALL ");
      case 1:
        return sql.replace(/\bFROM\b/, `, ${"a".repeat(50_000)} FROM`);
      case 2:
        return `${" ".repeat(90_000)}${sql}`;
      case 3:
        return `SELECT ${"(".repeat(60)}1${")".repeat(60)}`;
      default:
        return sql.repeat(200);
    }
  },
};
const KINDS = Object.keys(MUTATIONS);

function tokenize(sql: string): string[] {
  return sql.match(/'(?:[^']|'')*'|"[^"]*"|\w+|\s+|./gu) ?? [];
}

function mutants(golds: readonly string[], count: number, seed: number): { kind: string; sql: string }[] {
  const rnd = random(seed);
  const out: { kind: string; sql: string }[] = [];
  for (let n = 0; n < count; n++) {
    const kind = KINDS[n % KINDS.length]!;
    let sql = tokenize(pick(golds, rnd)).join("");
    // One to three mutations of the same kind family, chained.
    const rounds = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < rounds && (k === 0 || kind !== "long"); k++)
      sql = MUTATIONS[
        k === 0
          ? kind
          : pick(
              KINDS.filter((x) => x !== "long"),
              rnd,
            )
      ]!(tokenize(sql), rnd);
    out.push({ kind, sql });
  }
  return out;
}

function wellFormed(result: ValidationResult): void {
  expect(typeof result.valid).toBe("boolean");
  expect(result.valid).toBe(result.errors.length === 0);
  for (const issue of [...result.errors, ...result.warnings]) {
    expect(typeof issue.code).toBe("string");
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

describe("validateSql under fuzzing", () => {
  let golds: string[];
  let schema: SchemaModel;
  let db: SqlExecutor;
  beforeAll(async () => {
    const splits = await loadDatasetSplits();
    golds = [...new Set([...splits.train, ...splits.dev, ...splits.test, ...splits.test_unseen].map((i) => i.sql))];
    db = await openDatabase("demo");
    schema = await introspectSchema(db);
  }, 120_000);
  afterAll(async () => {
    await db.close();
  });

  async function run(
    cases: { kind: string; sql: string }[],
    options: ValidateOptions,
  ): Promise<{ valid: number; slowest: number; byCode: Map<string, number> }> {
    let valid = 0;
    let slowest = 0;
    const byCode = new Map<string, number>();
    for (const { kind, sql } of cases) {
      // CPU time of this process (all its threads): other processes on a shared machine do not count.
      const started = process.cpuUsage();
      let result: ValidationResult;
      try {
        result = await validateSql(sql, options);
      } catch (error) {
        throw new Error(
          `validateSql threw on a '${kind}' mutant ${JSON.stringify(sql.slice(0, 200))}: ${String(error)}`,
        );
      }
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      slowest = Math.max(slowest, ms);
      if (ms >= 1000)
        throw new Error(
          `validateSql took ${ms.toFixed(0)} ms CPU on a '${kind}' mutant of ${sql.length} characters: ${JSON.stringify(sql.trim().slice(0, 200))}`,
        );
      wellFormed(result);
      if (result.valid) {
        valid++;
        expect(checkSafety(sql).safe).toBe(true);
      }
      for (const e of result.errors) byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
    }
    return { valid, slowest, byCode };
  }

  it("3000 mutants with the schema (no executor), then 300 with PostgreSQL, all within budget", async () => {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const offline = mutants(golds, 3000, 20260001);
    const a = await run(offline, { schema });
    const offlineSeconds = (performance.now() - started) / 1000;
    // The mutants exercise every stage: valid ones, safety, syntax and schema refusals, the length caps.
    expect(a.valid).toBeGreaterThan(200);
    for (const code of [
      "syntax_error",
      "unknown_column",
      "unknown_table",
      "unsafe_multi_statement",
      "unsafe_forbidden_keyword",
      "sql_too_long",
      "sql_too_complex",
    ]) {
      expect([code, (a.byCode.get(code) ?? 0) > 0]).toEqual([code, true]);
    }
    const online = mutants(golds, 300, 20260002);
    const b = await run(online, { schema, executor: db });
    expect(b.valid).toBeGreaterThan(20);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    console.log(
      `fuzz: ${offline.length} offline in ${offlineSeconds.toFixed(1)} s (${a.valid} valid, slowest ${a.slowest.toFixed(0)} ms CPU), ${online.length} with PGlite (${b.valid} valid, slowest ${b.slowest.toFixed(0)} ms CPU), ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU; errors ${JSON.stringify(Object.fromEntries(a.byCode))}`,
    );
    // CPU seconds: on a shared machine other processes' load must not fail the budget.
    expect(cpuSeconds).toBeLessThan(60);
  }, 180_000);

  it("mutants are deterministic: the same seed gives the same inputs and verdicts", async () => {
    const first = mutants(golds, 50, 7);
    expect(mutants(golds, 50, 7)).toEqual(first);
    const verdicts = async (): Promise<unknown[]> =>
      Promise.all(first.map(async (m) => (await validateSql(m.sql, { schema })).errors.map((e) => e.code)));
    expect(await verdicts()).toEqual(await verdicts());
  });
});
