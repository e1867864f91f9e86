/**
 * Group-relative advantages (GRPO; docs/grpo.md).
 *
 * Rewards come in consecutive groups of G (the G completions of one prompt), [n_groups·G].
 *   mean_g = (1/G) Σ r_i
 *   std_g  = sqrt(Σ (r_i − mean_g)² / (G − 1))     (unbiased, as torch.std in TRL; 0 when G = 1)
 *   A_i    = (r_i − mean_g) / (std_g + ε)           scaleByStd: true  (GRPO)
 *   A_i    =  r_i − mean_g                          scaleByStd: false (Dr. GRPO)
 * A group whose rewards are all equal (std < 1e-12) carries no signal: its advantages are 0 and it is
 * counted in `zeroVarianceGroups` (its indices in `zeroVarianceGroupIndices`).
 *
 * @example
 * groupAdvantages([1, 0, 0, 0, 0.5, 0.5], { groupSize: 3 })
 * // group 0: mean 1/3, std 0.5774 → [1.1547, -0.5774, -0.5774]; group 1: all 0, zeroVarianceGroups 1
 */
import { InputError } from "../errors.js";

export interface GroupAdvantageOptions {
  /** G: completions per prompt. */
  groupSize: number;
  /** Divide by the group's std (GRPO) or not (Dr. GRPO). Default true. */
  scaleByStd?: boolean;
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
  const scale = options.scaleByStd ?? true;
  const eps = options.epsilon ?? 1e-4;
  const advantages: number[] = [];
  const means: number[] = [];
  const stds: number[] = [];
  const zeroVarianceGroupIndices: number[] = [];
  for (let g = 0; g < rewards.length / G; g += 1) {
    const group = rewards.slice(g * G, (g + 1) * G);
    const mean = group.reduce((a, b) => a + b, 0) / G;
    const std = G > 1 ? Math.sqrt(group.reduce((a, r) => a + (r - mean) ** 2, 0) / (G - 1)) : 0;
    means.push(mean);
    stds.push(std);
    if (std < 1e-12) {
      zeroVarianceGroupIndices.push(g);
      for (let i = 0; i < G; i += 1) advantages.push(0);
    } else {
      for (const r of group) advantages.push(scale ? (r - mean) / (std + eps) : r - mean);
    }
  }
  return { advantages, means, stds, zeroVarianceGroups: zeroVarianceGroupIndices.length, zeroVarianceGroupIndices };
}
