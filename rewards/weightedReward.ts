/**
 * The weighted reward: runs every component on the batch and adds them up.
 *
 *   total_i = Σ_k w_k · r_k,i   over the components k where r_k,i is not null
 * Penalties are ordinary components with a negative range (the safety penalty) and a positive weight.
 * Every component's raw value is returned beside the total, so the trainer logs each one separately;
 * the total is exactly the weighted sum of what is logged.
 *
 * @example
 * const reward = createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS() });
 * const { totals, components } = await reward(samples);
 * // totals[i] === Σ_k weight_k · (components[k][i] ?? 0)
 */
import type { BusinessRule } from "../sql/businessRules.js";
import { createBusinessRuleReward } from "./businessRuleReward.js";
import { createExecutesButWrongReward } from "./executesButWrongReward.js";
import { executionMatchReward } from "./executionMatchReward.js";
import { createFormatReward } from "./formatReward.js";
import type { RewardFunction, RewardSample } from "./rewardSample.js";
import { rowOverlapReward } from "./rowOverlapReward.js";
import { createSafetyPenalty } from "./safetyPenalty.js";
import { schemaLinkingReward } from "./schemaLinkingReward.js";
import { validityReward } from "./validityReward.js";
import { valueLinkingReward } from "./valueLinkingReward.js";
import { InputError } from "../errors.js";

export interface RewardComponent {
  fn: RewardFunction;
  weight: number;
}

export interface WeightedRewardResult {
  /** Weighted total per sample, [N]. */
  totals: number[];
  /** Raw value per component per sample, name → [N]. */
  components: Record<string, (number | null)[]>;
}

export type WeightedReward = (samples: readonly RewardSample[]) => Promise<WeightedRewardResult>;

/**
 * The default mix: execution match dominates (1.0); partial credit for executing (0.1, Arctic), row
 * overlap (0.2) and schema linking (0.1); validity (0.1), format (0.1), business rules (0.1); the safety
 * penalty (−1 × 1.0). Value linking is computed and logged at weight 0 (a diagnostic: does the model copy
 * the question's values?) — give it a weight to train on it. Efficiency needs an executor: add
 * `createEfficiencyReward` yourself.
 *
 * `weights` overrides weights by component name (a GRPO config's `rewardWeights`); an unknown name is an
 * InputError that lists the known ones.
 */
export function DEFAULT_REWARD_COMPONENTS(
  options: {
    bareSql?: boolean;
    weights?: Readonly<Record<string, number>>;
    /** The database's business rules (sql/businessRules.ts `defaultBusinessRules`); default none. */
    businessRules?: readonly BusinessRule[];
  } = {},
): Record<string, RewardComponent> {
  const components: Record<string, RewardComponent> = {
    execution_match: { fn: executionMatchReward, weight: 1 },
    executes: { fn: createExecutesButWrongReward({ credit: 1 }), weight: 0.1 },
    row_overlap: { fn: rowOverlapReward, weight: 0.2 },
    schema_linking: { fn: schemaLinkingReward, weight: 0.1 },
    value_linking: { fn: valueLinkingReward, weight: 0 },
    validity: { fn: validityReward, weight: 0.1 },
    format: { fn: createFormatReward({ bareSql: options.bareSql ?? false }), weight: 0.1 },
    business_rules: { fn: createBusinessRuleReward({ rules: options.businessRules ?? [] }), weight: 0.1 },
    safety: { fn: createSafetyPenalty({ penalty: -1 }), weight: 1 },
  };
  for (const [name, weight] of Object.entries(options.weights ?? {})) {
    const component = components[name];
    if (!component) {
      throw new InputError(`unknown reward component '${name}'`, {
        hint: `reward weights name one of: ${Object.keys(components).join(", ")}`,
        context: { name },
      });
    }
    component.weight = weight;
  }
  return components;
}

export function createWeightedReward(options: { components: Record<string, RewardComponent> }): WeightedReward {
  const entries = Object.entries(options.components);
  for (const [name, c] of entries) {
    if (!Number.isFinite(c.weight)) {
      throw new InputError(`reward weight of '${name}' is not a finite number: ${c.weight}`, {
        hint: "give every reward component a finite numeric weight",
      });
    }
  }
  return async (samples) => {
    const values = await Promise.all(entries.map(([, c]) => c.fn(samples)));
    const components: Record<string, (number | null)[]> = {};
    const totals = new Array<number>(samples.length).fill(0);
    entries.forEach(([name, c], k) => {
      const column = values[k]!;
      if (column.length !== samples.length) {
        throw new InputError(`reward '${name}' returned ${column.length} values for ${samples.length} samples`, {
          hint: "a reward function must return one value (or null) per sample",
        });
      }
      components[name] = column;
      column.forEach((v, i) => {
        if (v !== null) totals[i]! += c.weight * v;
      });
    });
    return { totals, components };
  };
}
