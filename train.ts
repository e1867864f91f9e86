/**
 * `gl-rl/train` — teach a model the task: supervised fine-tuning, GRPO, evaluation, and the rewards GRPO
 * optimises. Training runs through the native gradient extension (docs/native.md); GRPO is docs/grpo.md.
 *
 * @example
 * import { runGrpo, evaluateModel, loadDataset } from "gl-rl/train";
 *
 * const run = await runGrpo({ outDir: "runs/grpo", maxSteps: 50 }); // the demo model, its defaults
 * console.log(run.config.outDir); // adapter.gguf, metrics.jsonl, checkpoint/
 */

// The question dataset: a demo split ("train" | "dev" | "test" | "test_unseen") or your own JSONL (data/DATASET.md).
export { DATASET_SPLITS, loadDataset } from "./data/loadDataset.js";
export type { DatasetItem, DatasetSplit } from "./data/loadDataset.js";

// The trainable policy: a Qwen2/Qwen3 GGUF with LoRA adapters (or all weights), forward + backward + AdamW.
export { NativePolicy } from "./trainers/nativePolicy.js";
export type { NativePolicyOptions } from "./trainers/nativePolicy.js";

// SFT: question/SQL pairs → token sequences with the loss on the SQL → AdamW steps, checkpoints, metrics.
export { DEFAULT_SFT_CONFIG, resolveSftConfig } from "./trainers/sft/sftConfig.js";
export type { SftConfig } from "./trainers/sft/sftConfig.js";
export { sftExamples } from "./trainers/sft/sftExamples.js";
// The task's prompts: the one builder ask, eval, SFT and GRPO use (docs/prompts.md) — for your own loops.
export { buildTaskPrompt, buildTaskPrompts, promptStyleForModel } from "./task/text2sqlPrompt.js";
export type { TaskQuestion } from "./task/text2sqlPrompt.js";
export { taskDatabase } from "./task/taskDatabase.js";
export type { TaskDatabase } from "./task/taskDatabase.js";
export { trainSft } from "./trainers/sft/sftTrainer.js";
export type { SftExample, SftResult, SftRunOptions } from "./trainers/sft/sftTrainer.js";

// GRPO: sample G candidates per question, score them with the rewards, update the LoRA adapter.
export { runGrpo } from "./trainers/grpo/grpoRun.js";
export type { RunGrpoOptions } from "./trainers/grpo/grpoRun.js";
export { DEFAULT_GRPO_RUN_CONFIG, resolveGrpoRunConfig } from "./trainers/grpo/grpoRunConfig.js";
export type { GrpoRunConfig } from "./trainers/grpo/grpoRunConfig.js";

// Evaluation: execution accuracy (by difficulty), validity, latency and mean reward of a model on a dataset.
export { evaluateModel } from "./trainers/eval/evaluateModel.js";
export type { EvaluateModelOptions } from "./trainers/eval/evaluateModel.js";
export type { EvaluationReport } from "./trainers/eval/evaluate.js";

// Rewards: plain batched functions over prepared samples, weighted into one scalar per candidate.
export { createSqlRewardEnvironment } from "./rewards/sqlRewardEnvironment.js";
export { prepareRewardSamples } from "./rewards/prepareRewardSamples.js";
export { DEFAULT_REWARD_COMPONENTS, createWeightedReward } from "./rewards/weightedReward.js";
export type { RewardComponent, WeightedReward, WeightedRewardResult } from "./rewards/weightedReward.js";
export type { RewardFunction, RewardSample } from "./rewards/rewardSample.js";
