/**
 * Schema linking: the Jaccard index of the tables and columns the candidate uses against the gold
 * query's. Items are `t:table` and `c:table.column`, lower-cased; J = |C ∩ G| / |C ∪ G|.
 *
 * Range [0, 1]. 0 when the candidate has no SQL or could not be analysed; null without a gold query
 * or its analysis.
 *
 * @example
 * // candidate {projects, projects.name}; gold {projects, projects.name, projects.budget} → 2/3
 * await schemaLinkingReward([sample]); // [0.6667]
 */
import type { RewardFunction, SchemaItems } from "./rewardSample.js";

function itemSet(items: SchemaItems): Set<string> {
  return new Set([
    ...items.tables.map((t) => `t:${t.toLowerCase()}`),
    ...items.columns.map((c) => `c:${c.toLowerCase()}`),
  ]);
}

/** |A ∩ B| / |A ∪ B|; two empty sets → 1. */
export function jaccardIndex<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  for (const item of a) if (b.has(item)) common += 1;
  return common / (a.size + b.size - common);
}

/** Jaccard index of the candidate's and the gold query's table and column items. */
export function schemaJaccard(candidate: SchemaItems, gold: SchemaItems): number {
  return jaccardIndex(itemSet(candidate), itemSet(gold));
}

export const schemaLinkingReward: RewardFunction = async (samples) =>
  samples.map((s) => {
    if (s.goldSql === undefined || s.goldSchemaItems === undefined) return null;
    if (s.sql === null || s.schemaItems === undefined) return 0;
    return schemaJaccard(s.schemaItems, s.goldSchemaItems);
  });
