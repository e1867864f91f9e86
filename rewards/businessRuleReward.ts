/**
 * Business-rule compliance: the fraction of applicable rules the candidate SQL obeys.
 *
 * A rule applies to a sample (usually because the gold query or the question shows it matters) and
 * holds or not for the candidate SQL. Score = rules held / rules applicable. Range [0, 1]; null when no
 * rule applies (or no gold query for rules that need it); 0 when rules apply but there is no SQL.
 *
 * @example
 * const rules = createBusinessRuleReward({ rules: DEMO_BUSINESS_RULES });
 * // gold excludes void invoices, candidate does not → [0]
 * await rules([{ …, sql: "SELECT sum(amount) FROM invoices", goldSql: "SELECT sum(amount) FROM invoices WHERE status <> 'void'" }]);
 */
import type { RewardFunction, RewardSample } from "./rewardSample.js";

export interface BusinessRule {
  name: string;
  /** Does the rule concern this sample? */
  appliesTo(sample: RewardSample): boolean;
  /** Does the candidate SQL obey it? */
  holds(sql: string, sample: RewardSample): boolean;
}

const mentionsVoid = (sql: string | undefined): boolean => sql !== undefined && /'void'/i.test(sql);

/** Rules of the demo general ledger (data/schema.sql). */
export const DEMO_BUSINESS_RULES: readonly BusinessRule[] = [
  {
    name: "void documents are excluded when the gold query excludes them",
    appliesTo: (s) => mentionsVoid(s.goldSql),
    holds: (sql) => mentionsVoid(sql),
  },
  {
    name: "terminated employees are excluded when the gold query filters on status",
    appliesTo: (s) => s.goldSql !== undefined && /\bemployees\b/i.test(s.goldSql) && /'(active|terminated)'/i.test(s.goldSql),
    holds: (sql) => /'(active|terminated)'/i.test(sql),
  },
  {
    name: "ledger amounts aggregate debit and credit columns, not invoice amounts, when gold does",
    appliesTo: (s) => s.goldSql !== undefined && /\bjournal_lines\b/i.test(s.goldSql) && /\b(debit|credit)\b/i.test(s.goldSql),
    holds: (sql) => /\bjournal_lines\b/i.test(sql) && /\b(debit|credit)\b/i.test(sql),
  },
];

export interface BusinessRuleOptions {
  /** Default DEMO_BUSINESS_RULES. */
  rules?: readonly BusinessRule[];
}

export function createBusinessRuleReward(options: BusinessRuleOptions = {}): RewardFunction {
  const rules = options.rules ?? DEMO_BUSINESS_RULES;
  return async (samples) =>
    samples.map((s) => {
      const applicable = rules.filter((r) => r.appliesTo(s));
      if (applicable.length === 0) return null;
      if (s.sql === null) return 0;
      return applicable.filter((r) => r.holds(s.sql!, s)).length / applicable.length;
    });
}
