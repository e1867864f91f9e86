/**
 * gl-rl — the one public entry point. Every export is named here.
 */
// The agent team (orchestrator/): ask a question, get validated SQL, rows, confidence, explanation.
export { createText2SqlAgent, Text2SqlState } from "./orchestrator/text2sqlGraph.js";
export type {
  Text2SqlAgent,
  Text2SqlAgentOptions,
  Text2SqlAnswer,
  AskOptions,
  Text2SqlGraph,
  Text2SqlStateType,
} from "./orchestrator/text2sqlGraph.js";
export { generatorMachine, FeedbackMemory } from "./agents/generatorAgent.js";
export type { FeedbackExample, GenerationRequest, GeneratedCandidate } from "./agents/generatorAgent.js";
export { validatorMachine, executeCandidates } from "./agents/validatorAgent.js";
export { rewardEvaluatorMachine } from "./agents/rewardEvaluatorAgent.js";
export type { RewardEvaluation } from "./agents/rewardEvaluatorAgent.js";
export { createEventBus, EventBus } from "./runtime/eventBus.js";
export type { AgentEvent, AgentEventName } from "./runtime/eventBus.js";
export { createActorRuntime, ActorRuntime, isTransientError } from "./runtime/actorRuntime.js";
export type { ActorRuntimeOptions, CallOptions } from "./runtime/actorRuntime.js";
export { BoundedCache } from "./runtime/boundedCache.js";
export type { BoundedCacheOptions } from "./runtime/boundedCache.js";

export {
  GlRlError,
  InputError,
  DatabaseError,
  SqlRefusedError,
  TimeoutError,
  ModelError,
  NativeError,
  AbortError,
  isGlRlError,
  isInputError,
  isDatabaseError,
  isSqlRefusedError,
  isTimeoutError,
  isModelError,
  isNativeError,
  isAbortError,
} from "./errors.js";
export type { GlRlErrorOptions } from "./errors.js";
export type { SqlExecutor, QueryResult, ResultColumn, ExecuteOptions, ExecutionOutcome } from "./sql/sqlExecutor.js";
export type {
  TextGenerator,
  Prompt,
  ChatMessage,
  GenerationParams,
  Completion,
  FinishReason,
  CandidateOptions,
} from "./models/textGenerator.js";

// Model layer (models/): Qwen GGUF inference through node-llama-cpp, prompts, LoRA adapters, the tiny model.
export { loadModel, LoadedModel, checkModelFile, SUPPORTED_ARCHITECTURES } from "./models/loadModel.js";
export type { LoadModelOptions } from "./models/loadModel.js";
export type { GpuChoice } from "./models/llamaRuntime.js";
export { DEFAULT_GENERATION_PARAMS, resolveGenerationParams, temperatureLadder } from "./models/generationParams.js";
export {
  buildPrompt,
  buildCorrectionPrompt,
  formatCompletion,
  renderPrompt,
  trainingTokens,
} from "./models/promptTemplates.js";
export type { PromptStyle, PromptInput, CorrectionInput, TableContext } from "./models/promptTemplates.js";
export { extractSql } from "./models/extractSql.js";
export type { ExtractedAnswer } from "./models/extractSql.js";
export { writeLoraAdapter, readLoraAdapter, createLoraAdapter } from "./models/loraAdapter.js";
export type { LoraAdapter, LoraPair } from "./models/loraAdapter.js";
export { writeTinyModel, DEFAULT_TINY_MODEL_DIMS } from "./models/writeTinyModel.js";
export type { TinyModelDims, WriteTinyModelOptions, TinyModelInfo } from "./models/writeTinyModel.js";

// SQL toolkit (sql/): parse, safety, execute sandboxed, compare.
export { parseSql } from "./sql/parseSql.js";
export type { ParsedSql } from "./sql/parseSql.js";
export { checkSafety } from "./sql/safetyPolicy.js";
export type { SafetyPolicy, SafetyVerdict, SafetyViolation } from "./sql/safetyPolicy.js";
export { validateSql } from "./sql/validateSql.js";
export type { ValidationIssue, ValidationResult, ValidateOptions } from "./sql/validateSql.js";
export { schemaFromDdl, introspectSchema, findTable, schemaDdl } from "./sql/schemaModel.js";
export type { SchemaModel, SchemaTable, SchemaColumn, SchemaForeignKey } from "./sql/schemaModel.js";
export { analyzeSql } from "./sql/analyzeSql.js";
export type { SqlAnalysis, SqlColumnUse, SqlJoin, SchemaProblem } from "./sql/analyzeSql.js";
export { DEMO_BUSINESS_RULES, checkBusinessRules } from "./sql/businessRules.js";
export type { BusinessRule, RuleIssue } from "./sql/businessRules.js";
export { analyzePerformance } from "./sql/performanceAnalysis.js";
export type { PerformanceOptions, PerformanceReport } from "./sql/performanceAnalysis.js";
export { openDatabase, parseDatabaseSpec } from "./sql/openDatabase.js";
export type { OpenDatabaseOptions, DatabaseSpec } from "./sql/openDatabase.js";
export { createPgliteExecutor } from "./sql/pgliteExecutor.js";
export type { PgliteExecutor, PgliteExecutorOptions } from "./sql/pgliteExecutor.js";
export { createPostgresExecutor } from "./sql/postgresExecutor.js";
export type { PostgresExecutor, PostgresExecutorOptions } from "./sql/postgresExecutor.js";
export { executionMatch } from "./sql/executionMatch.js";
export type { MatchVerdict } from "./sql/executionMatch.js";

// The question dataset (data/).
export {
  loadDataset,
  loadDatasetSplits,
  parseDataset,
  DATASET_SPLITS,
  DIFFICULTIES,
  DEMO_DATASET_DIR,
} from "./data/loadDataset.js";
export type { DatasetItem, DatasetSplit, Difficulty } from "./data/loadDataset.js";

// Rewards (rewards/).
export { createWeightedReward, DEFAULT_REWARD_COMPONENTS } from "./rewards/weightedReward.js";
export type { RewardComponent, WeightedReward, WeightedRewardResult } from "./rewards/weightedReward.js";
export type { RewardFunction, RewardSample } from "./rewards/rewardSample.js";
export { groupAdvantages } from "./trainers/groupAdvantages.js";
export type { GroupAdvantageOptions, GroupAdvantages } from "./trainers/groupAdvantages.js";

// Trainers (trainers/): the native policy, SFT, GRPO, evaluation.
export { NativePolicy } from "./trainers/nativePolicy.js";
export type { NativePolicyOptions, NativePolicyInfo } from "./trainers/nativePolicy.js";
export type { PolicyBackend, TokenSequence, StepOptions } from "./trainers/policyBackend.js";
export { trainSft } from "./trainers/sftTrainer.js";
export type { SftExample, SftRunOptions, SftResult } from "./trainers/sftTrainer.js";
export { resolveSftConfig, DEFAULT_SFT_CONFIG } from "./trainers/sftConfig.js";
export type { SftConfig } from "./trainers/sftConfig.js";
export { trainGrpo } from "./trainers/grpoTrainer.js";
export type { GrpoRunOptions, GrpoRunResult } from "./trainers/grpoTrainer.js";
export { resolveGrpoConfig, DEFAULT_GRPO_CONFIG } from "./trainers/grpoConfig.js";
export type { GrpoConfig } from "./trainers/grpoConfig.js";
export { grpoLoss } from "./trainers/grpoLoss.js";
export type { LossType, GrpoLossOptions } from "./trainers/grpoLoss.js";
export { evaluate } from "./trainers/evaluate.js";
export { ensureDemoModel, demoModelRecipe, demoModelPath } from "./trainers/demoModel.js";
export { evaluateModel } from "./trainers/evaluateModel.js";
export type { EvaluateModelOptions } from "./trainers/evaluateModel.js";
export type { EnsureDemoModelOptions, DemoModelRecipe } from "./trainers/demoModel.js";
export { createSqlRewardEnvironment } from "./rewards/sqlRewardEnvironment.js";
export type { EvaluationOptions, EvaluationReport, EvaluationExample } from "./trainers/evaluate.js";
export { renderMetricsPlot } from "./cli/renderMetricsPlot.js";
export { augmentFromDatabase } from "./data/databaseValues.js";
export type { AugmentFromDatabaseOptions, AugmentFromDatabaseResult } from "./data/databaseValues.js";
export { passAtK } from "./trainers/passAtK.js";
