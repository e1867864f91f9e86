/**
 * Value linking: the Jaccard index of the literal values the candidate filters on against the gold
 * query's — the values' counterpart of schema linking. Items are the SQL's string literals ('…', ''
 * unescaped, case kept) and its numbers outside strings (`100000`, `0.5`), as text.
 *
 * Why: the failure that caps small models on held-out questions is writing a value they memorised
 * (`account_type = 'liability'`) instead of the one the question names ('equity'); execution match gives
 * such a query 0 like any other wrong one. This term separates a wrong query that copied the right value
 * from one that did not, so GRPO has a gradient towards copying even when no sample is fully right.
 * (N-gram and literal similarity terms of this kind are used by Reasoning-SQL, Pourreza et al. 2025.)
 *
 * Range [0, 1]. Two queries without literals → 1; no SQL → 0; null without a gold query.
 *
 * @example
 * // candidate {'liability'}; gold {'equity'} → 0.   candidate {'equity', 10}; gold {'equity'} → 1/2
 * await valueLinkingReward([sample]);
 */
import { sqlStringLiteralsOf, withoutStringLiterals } from "../sql/sqlLiterals.js";
import type { RewardFunction } from "./rewardSample.js";
import { jaccardIndex } from "./schemaLinkingReward.js";

/** A number not glued to an identifier (`t1`, `col_2`) or a parameter (`$1`). */
const NUMBER = /(?<![\w$.])\d+(?:\.\d+)?(?![\w.])/g;

/** The distinct literal values of `sql`: string literals (unescaped) and numbers outside strings. */
export function sqlValueLiterals(sql: string): Set<string> {
  const values = new Set<string>();
  for (const text of sqlStringLiteralsOf(sql)) values.add(`s:${text}`);
  for (const m of withoutStringLiterals(sql).matchAll(NUMBER)) values.add(`n:${Number(m[0])}`);
  return values;
}

export const valueLinkingReward: RewardFunction = async (samples) =>
  samples.map((s) => {
    if (s.goldSql === undefined) return null;
    if (s.sql === null) return 0;
    return jaccardIndex(sqlValueLiterals(s.sql), sqlValueLiterals(s.goldSql));
  });
