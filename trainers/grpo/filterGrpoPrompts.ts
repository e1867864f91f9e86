/**
 * Which prompts GRPO may train on (docs/grpo.md "Rewards"): every prompt's gold query is executed once
 * (through the reward pipeline's gold cache, so scoring reuses the result) and a prompt is left out when
 *   - its gold result is empty: any empty result of the same width would then "match" (`SELECT … WHERE
 *     false` collects the full reward), so the prompt rewards a hack rather than a query;
 *   - its gold query fails (error, refusal, timeout): nothing can match it — a data bug, not a signal.
 * Prompts without a gold query are kept (the rewards that need one return null for them).
 *
 * @example
 * const { prompts, stats } = await filterGrpoPrompts(built, createGoldResultCache(env));
 * // stats: { total: 640, used: 635, emptyGold: 4, failedGold: 1 }
 */
import type { GoldResultCache } from "../../rewards/prepareRewardSamples.js";
import type { GrpoPrompt } from "./grpoStep.js";

export interface GrpoPromptStats {
  /** Prompts before filtering. */
  total: number;
  /** Prompts GRPO trains on. */
  used: number;
  /** Left out: the gold result has no rows. */
  emptyGold: number;
  /** Left out: the gold query did not run. */
  failedGold: number;
}

export async function filterGrpoPrompts(
  prompts: readonly GrpoPrompt[],
  gold: Pick<GoldResultCache, "get">,
): Promise<{ prompts: GrpoPrompt[]; stats: GrpoPromptStats }> {
  const verdicts = await Promise.all(
    prompts.map(async (p): Promise<"use" | "emptyGold" | "failedGold"> => {
      if (p.goldSql === undefined) return "use";
      const { execution } = await gold.get(p.goldSql);
      if (!execution.ok) return "failedGold";
      return execution.result.rows.length === 0 ? "emptyGold" : "use";
    }),
  );
  const count = (v: string) => verdicts.filter((x) => x === v).length;
  return {
    prompts: prompts.filter((_, i) => verdicts[i] === "use"),
    stats: {
      total: prompts.length,
      used: count("use"),
      emptyGold: count("emptyGold"),
      failedGold: count("failedGold"),
    },
  };
}
