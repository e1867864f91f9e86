/**
 * A trainer's checkpoint folder, shared by trainers/sft/sftTrainer.ts and trainers/grpo/grpoTrainer.ts:
 *
 *   policy-<step>.ckpt   weights / LoRA + AdamW moments + step, written by the policy (atomically)
 *   state.json           { step, policy: "policy-<step>.ckpt", …trainer fields }, written temp + rename
 *                        AFTER the policy file, so a kill at any moment leaves the last complete pair
 * The previous policy file is removed only once state.json names the new one.
 *
 * @example
 * const checkpoints = checkpointFiles<{ adapter: string | null }>(join(outDir, "checkpoint"), policy);
 * const state = checkpoints.latest();                 // null on a fresh run
 * if (state) await policy.loadCheckpoint(checkpoints.policyPath(state));
 * await checkpoints.save(step, { adapter });
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PolicyBackend } from "./policyBackend.js";

/** Writes `text` to `path` through a temporary file and a rename: readers see the old or the new file, never half. */
export function writeFileAtomicSync(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export type CheckpointState<T> = T & { step: number; policy: string };

export interface CheckpointFiles<T> {
  /** state.json, or null when the folder holds no checkpoint yet. */
  latest(): CheckpointState<T> | null;
  /** The policy checkpoint a state names. */
  policyPath(state: { policy: string }): string;
  /** Saves the policy at `step`, then state.json with `fields`, then removes the previous policy file. */
  save(step: number, fields: T): Promise<void>;
}

export function checkpointFiles<T extends object>(
  dir: string,
  policy: Pick<PolicyBackend, "saveCheckpoint">,
): CheckpointFiles<T> {
  mkdirSync(dir, { recursive: true });
  const statePath = join(dir, "state.json");
  const latest = (): CheckpointState<T> | null =>
    existsSync(statePath) ? (JSON.parse(readFileSync(statePath, "utf8")) as CheckpointState<T>) : null;
  return {
    latest,
    policyPath: (state) => join(dir, state.policy),
    async save(step, fields) {
      const file = `policy-${step}.ckpt`;
      const previous = latest()?.policy ?? null;
      await policy.saveCheckpoint(join(dir, file));
      writeFileAtomicSync(statePath, JSON.stringify({ step, policy: file, ...fields }));
      if (previous !== null && previous !== file) rmSync(join(dir, previous), { force: true });
    },
  };
}
