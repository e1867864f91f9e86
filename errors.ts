/**
 * gl-rl's errors: one base class, a small family under it, a type guard for each.
 *
 * Every message says what was wrong with context (file, SQL, tensor, shape…); `hint` says how to fix it.
 * The CLI prints `message` (and `hint`) on one line and exits 2 for `InputError`, 1 otherwise.
 *
 * @example
 * throw new InputError("dataset line 7 is not JSON: Unexpected token } at position 12", {
 *   hint: "each line of a JSONL file must be one JSON object",
 *   context: { file: "data/questions.jsonl", line: 7 },
 * });
 */
export interface GlRlErrorOptions {
  /** How to fix the problem, in one sentence. */
  hint?: string;
  /** Machine-readable details: file, line, tensor, shape, sql… */
  context?: Record<string, unknown>;
  /** The underlying error. */
  cause?: unknown;
}

/** The base of every error gl-rl throws on purpose. `code` is stable and machine-readable. */
export class GlRlError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, options: GlRlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.context = options.context ?? {};
  }

  /** `{ code, message, hint }` — the shape the CLI prints with `--json`. */
  toJSON(): { code: string; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Unusable input from a user: a missing file, a bad JSONL line, a bad flag or config value. */
export class InputError extends GlRlError {
  constructor(message: string, options: GlRlErrorOptions = {}) {
    super("input", message, options);
  }
}

/** A database could not be opened or reached, or a query failed in it. */
export class DatabaseError extends GlRlError {
  constructor(code: string, message: string, options: GlRlErrorOptions = {}) {
    super(code, message, options);
  }
}

/** SQL refused by the validator or the safety policy before it reached a database. */
export class SqlRefusedError extends GlRlError {
  constructor(code: string, message: string, options: GlRlErrorOptions = {}) {
    super(code, message, options);
  }
}

/** An operation ran past its time limit (a query, a generation, an agent call). */
export class TimeoutError extends GlRlError {
  constructor(message: string, options: GlRlErrorOptions = {}) {
    super("timeout", message, options);
  }
}

/** A model, adapter or GGUF file problem: missing, not GGUF, wrong architecture, shape mismatch. */
export class ModelError extends GlRlError {
  constructor(code: string, message: string, options: GlRlErrorOptions = {}) {
    super(code, message, options);
  }
}

/** An error raised by the native gradient extension (C++), with its context. */
export class NativeError extends GlRlError {
  constructor(code: string, message: string, options: GlRlErrorOptions = {}) {
    super(code, message, options);
  }
}

/** An operation was cancelled through an AbortSignal. */
export class AbortError extends GlRlError {
  constructor(message = "the operation was aborted", options: GlRlErrorOptions = {}) {
    super("aborted", message, options);
  }
}

export const isGlRlError = (error: unknown): error is GlRlError => error instanceof GlRlError;
export const isInputError = (error: unknown): error is InputError => error instanceof InputError;
export const isDatabaseError = (error: unknown): error is DatabaseError => error instanceof DatabaseError;
export const isSqlRefusedError = (error: unknown): error is SqlRefusedError => error instanceof SqlRefusedError;
export const isTimeoutError = (error: unknown): error is TimeoutError => error instanceof TimeoutError;
export const isModelError = (error: unknown): error is ModelError => error instanceof ModelError;
export const isNativeError = (error: unknown): error is NativeError => error instanceof NativeError;
export const isAbortError = (error: unknown): error is AbortError => error instanceof AbortError;
