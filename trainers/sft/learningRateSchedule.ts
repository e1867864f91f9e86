/**
 * Linear warmup then cosine decay:
 *   step < warmup:  lr = peak · (step + 1) / warmup
 *   otherwise:      lr = min + (peak − min) · ½ · (1 + cos(π · (step − warmup) / max(1, total − warmup)))
 * `step` counts optimizer steps from 0; at step = total − 1 the lr is close to `min`.
 *
 * @example
 * learningRateAt(0, { peak: 1e-3, warmupSteps: 10, totalSteps: 100, min: 0 }); // 1e-4
 */
export interface LearningRateSchedule {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the cosine. Default 0. */
  min?: number;
}

export function learningRateAt(step: number, s: LearningRateSchedule): number {
  const min = s.min ?? 0;
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
  const progress = Math.min(1, (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps));
  return min + (s.peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
