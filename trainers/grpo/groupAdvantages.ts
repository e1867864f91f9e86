/**
 * Group-relative advantages (GRPO; docs/grpo.md).
 *
 * Rewards come in consecutive groups of G (the G completions of one prompt), [n_groups·G]. As TRL's
 * `scale_rewards`:
 *   mean_g = (1/G) Σ_{i∈g} r_i                          (always the group's mean)
 *   std_g  = sqrt(Σ_{i∈g} (r_i − mean_g)² / (G − 1))     (unbiased, as torch.std; 0 when G = 1)
 *   std_B  = the same over all n_groups·G rewards of the batch
 *   A_i    = (r_i − mean_g) / (std_g + ε)    scaleRewards "group" (GRPO)
 *   A_i    = (r_i − mean_g) / (std_B + ε)    scaleRewards "batch" (Lite PPO: group mean, batch std)
 *   A_i    =  r_i − mean_g                   scaleRewards "none"  (Dr. GRPO)
 * A group whose rewards are all equal (std_g < 1e-12) carries no signal: its advantages are 0 and it is
 * counted in `zeroVarianceGroups` (its indices in `zeroVarianceGroupIndices`).
 *
 * @example
 * groupAdvantages([1, 0, 0, 0, 0.5, 0.5], { groupSize: 3 })
 * // group 0: mean 1/3, std 0.5774 → [1.1547, -0.5774, -0.5774]; group 1: all 0, zeroVarianceGroups 1
 */
import { InputError } from "../../errors.js";

export type ScaleRewards = "group" | "batch" | "none";
export const SCALE_REWARDS: readonly ScaleRewards[] = ["group", "batch", "none"];

/** Unbiased standard deviation (torch.std); 0 for fewer than two values. */
function unbiasedStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
}

export interface GroupAdvantageOptions {
  /** G: completions per prompt. */
  groupSize: number;
  /** Divide by the group's std (GRPO), the batch's std, or not at all (Dr. GRPO). Default "group". */
  scaleRewards?: ScaleRewards;
  /** ε added to the std. Default 1e-4 (TRL). */
  epsilon?: number;
}

export interface GroupAdvantages {
  /** A_i, [n_groups·G]. */
  advantages: number[];
  /** Per group, [n_groups]. */
  means: number[];
  stds: number[];
  zeroVarianceGroups: number;
  zeroVarianceGroupIndices: number[];
}

export function groupAdvantages(rewards: readonly number[], options: GroupAdvantageOptions): GroupAdvantages {
  const G = options.groupSize;
  if (!Number.isInteger(G) || G < 1 || rewards.length % G !== 0) {
    throw new InputError(`${rewards.length} rewards do not split into groups of ${G}`, {
      hint: "pass groupSize = completions per prompt, and G rewards for every prompt",
    });
  }
  const scale = options.scaleRewards ?? "group";
  if (!SCALE_REWARDS.includes(scale))
    throw new InputError(`scaleRewards = ${JSON.stringify(scale)} is not one of ${SCALE_REWARDS.join(", ")}`, {
      hint: 'use "group" (GRPO), "batch" or "none" (Dr. GRPO)',
    });
  const eps = options.epsilon ?? 1e-4;
  const batchStd = unbiasedStd(rewards);
  const advantages: number[] = [];
  const means: number[] = [];
  const stds: number[] = [];
  const zeroVarianceGroupIndices: number[] = [];
  for (let g = 0; g < rewards.length / G; g += 1) {
    const group = rewards.slice(g * G, (g + 1) * G);
    const mean = group.reduce((a, b) => a + b, 0) / G;
    const std = unbiasedStd(group);
    means.push(mean);
    stds.push(std);
    if (std < 1e-12) {
      zeroVarianceGroupIndices.push(g);
      for (let i = 0; i < G; i += 1) advantages.push(0);
    } else {
      const divisor = scale === "group" ? std + eps : scale === "batch" ? batchStd + eps : 1;
      for (const r of group) advantages.push((r - mean) / divisor);
    }
  }
  return { advantages, means, stds, zeroVarianceGroups: zeroVarianceGroupIndices.length, zeroVarianceGroupIndices };
}
