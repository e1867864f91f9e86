/**
 * Business-rule compliance: the fraction of applicable rules the candidate SQL obeys.
 *
 * The rules are the caller's (sql/businessRules.ts; none by default — rules are opt-in, the demo database's
 * are DEMO_BUSINESS_RULES, see `defaultBusinessRules`). A rule applies to a sample
 * when it concerns the gold query and the gold query obeys it (the gold shows that it matters); the
 * candidate holds it when the rule's `check` finds nothing wrong with the candidate. Score = rules held /
 * rules applicable. Range [0, 1]; null when no rule applies (or no gold query, or the gold query does not
 * parse); 0 when rules apply but there is no SQL or it does not parse.
 *
 * @example
 * const rules = createBusinessRuleReward({ rules: DEMO_BUSINESS_RULES });
 * // gold excludes void invoices, candidate does not → [0]
 * await rules([{ …, sql: "SELECT sum(amount) FROM invoices", goldSql: "SELECT sum(amount) FROM invoices WHERE status <> 'void'" }]);
 */
import { analyzeSql } from "../sql/analyzeSql.js";
import type { BusinessRule } from "../sql/businessRules.js";
import type { SchemaModel } from "../sql/schemaModel.js";
import type { RewardFunction } from "./rewardSample.js";

export interface BusinessRuleOptions {
  /** The rules to hold; default none (the reward is then null for every sample). */
  rules?: readonly BusinessRule[];
  /** Resolves unqualified columns to their tables. Default: none (single-table queries still resolve). */
  schema?: SchemaModel;
}

export function createBusinessRuleReward(options: BusinessRuleOptions = {}): RewardFunction {
  const rules = options.rules ?? [];
  return async (samples) =>
    samples.map((s) => {
      if (s.goldSql === undefined) return null;
      const gold = analyzeSql(s.goldSql, options.schema);
      if (gold === null) return null;
      const applicable = rules.filter((r) => r.applies(gold, s.goldSql!) && r.check(gold, s.goldSql!) === null);
      if (applicable.length === 0) return null;
      const candidate = s.sql === null ? null : analyzeSql(s.sql, options.schema);
      if (candidate === null) return 0;
      return applicable.filter((r) => r.check(candidate, s.sql!) === null).length / applicable.length;
    });
}
