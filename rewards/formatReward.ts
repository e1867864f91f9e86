/**
 * Format: how close a completion is to the reasoning-then-SQL shape
 * (`<reasoning>…</reasoning>` then exactly one ```sql fenced block, nothing after it).
 *
 * Graded so that a model that never emits the whole shape still gets a signal (a known failure of
 * text-to-SQL RL recipes is a binary format reward that is always 0). Four checks, 0.25 each:
 *   1. the text contains a SQL query (a SELECT or WITH keyword)          — any SQL at all
 *   2. a ```sql fenced block with a SELECT/WITH query inside                — the answer is fenced
 *   3. a non-empty <reasoning>…</reasoning> block that ends before the fence — reasoning first
 *   4. exactly one fenced block and nothing but whitespace after it         — one clean answer
 * `bareSql: true` (the tiny model's style: the completion IS the SQL) scores 1 for a completion that
 * starts with SELECT/WITH and holds one statement, 0.5 for SQL found elsewhere in it, 0 otherwise.
 * Range [0, 1]; never null.
 *
 * @example
 * await createFormatReward()([{ …, completion: "<reasoning>sum it</reasoning>\n```sql\nSELECT 1\n```" }]); // [1]
 * await createFormatReward()([{ …, completion: "SELECT 1" }]); // [0.25]
 */
import type { RewardFunction } from "./rewardSample.js";

export interface FormatRewardOptions {
  /** The completion is expected to be the bare SQL (the "tiny" prompt style). Default false. */
  bareSql?: boolean;
}

const SQL_START = /\b(select|with)\b/i;
const FENCE = /```sql\s*\n([\s\S]*?)```/gi;

export function formatScore(text: string, bareSql = false): number {
  if (bareSql) {
    const trimmed = text.trim();
    if (/^(select|with)\b/i.test(trimmed) && !/;\s*\S/.test(trimmed)) return 1;
    return SQL_START.test(trimmed) ? 0.5 : 0;
  }
  let score = SQL_START.test(text) ? 0.25 : 0;
  const fences = [...text.matchAll(FENCE)];
  const first = fences[0];
  if (first !== undefined && SQL_START.test(first[1] ?? "")) score += 0.25;
  const reasoning = /<reasoning>([\s\S]*?)<\/reasoning>/i.exec(text);
  if (reasoning !== null && reasoning[1]!.trim() !== "" && first !== undefined && reasoning.index < first.index!)
    score += 0.25;
  if (fences.length === 1 && text.slice(first!.index! + first![0].length).trim() === "") score += 0.25;
  return score;
}

export function createFormatReward(options: FormatRewardOptions = {}): RewardFunction {
  return async (samples) => samples.map((s) => formatScore(s.completion, options.bareSql ?? false));
}
