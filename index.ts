/**
 * gl-rl — the one public entry point. Every export is named here.
 */
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
export type { SqlExecutor, QueryResult, ResultColumn, ExecuteOptions } from "./sql/sqlExecutor.js";
export type {
  TextGenerator,
  Prompt,
  ChatMessage,
  GenerationParams,
  Completion,
  FinishReason,
  CandidateOptions,
} from "./models/textGenerator.js";
