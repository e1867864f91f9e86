/**
 * The text-to-SQL task's prompt: from a question, its evidence and a database, the prompt a model is asked.
 * This is gl-rl's one prompt builder — `gl-rl ask` (the orchestrator), `eval`, `train sft`, `train grpo`
 * and bench/passAtK.ts all build their prompts here, so a model is trained on exactly what it is asked
 * (docs/prompts.md).
 *
 * 1. The style by model (`promptStyleForModel`): "tiny" for the tiny demo model (a trimmed vocabulary of
 *    < 32k tokens), "schemaAware" for real Qwen models. Any style can be asked for.
 * 2. "tiny": the question and the evidence alone (models/promptTemplates.ts) — no database access. The tiny
 *    model learns its one schema by heart; its training sequences stay tens of tokens long.
 * 3. The chat styles: the question is linked to the live database (`linkQuestion`: tables and columns by
 *    name, task/schemaLinking.ts; the literal values it mentions looked up in those tables' text columns,
 *    then in the others — a table holding a named value is linked too);
 *    then the prompt holds
 *      tables    schemaAware: the DDL of the linked tables (all tables when none links), introspected from
 *                the database (task/taskDatabase.ts; keys and COMMENT ON lines included);
 *                zeroShot, fewShot, reasoningFirst: the DDL of every table
 *      evidence  the asker's evidence; then "'<text>' is stored as '<value>' in <table>.<column>" for each
 *                value found; then, for a follow-up in a thread, "The previous query was: <sql>"
 *      examples  worked question → SQL pairs when given (the orchestrator's remembered corrections)
 * 4. A correction prompt is the same prompt plus the failed SQL, the error and its hint.
 * Same (question, evidence, database, style) → same prompt, wherever it is built: task/text2sqlPrompt.test.ts
 * checks that the prompt GRPO trains on equals the prompt `ask` sends.
 *
 * @example
 * const db = taskDatabase(await openDatabase("pglite:./clinic-db"));
 * const prompt = await buildTaskPrompt(db, "schemaAware", { question: "How many patients live in Lyon?" });
 * renderPrompt(prompt); // "<|im_start|>system\n…Relevant tables:\nCREATE TABLE patients (…"
 */
import { InputError } from "../errors.js";
import {
  buildCorrectionPrompt,
  buildPrompt,
  type PromptInput,
  type PromptStyle,
  type TableContext,
} from "../models/promptTemplates.js";
import type { Prompt } from "../models/textGenerator.js";
import { schemaDdl, type SchemaModel } from "../sql/schemaModel.js";
import { linkLiterals, linkSchema, type LinkedSchema } from "./schemaLinking.js";
import type { TaskDatabase } from "./taskDatabase.js";

/** A question as the task takes it: the text and the asker's evidence (BIRD's). */
export interface TaskQuestion {
  question: string;
  evidence?: string | null;
}

/** What a chat-style prompt is built from besides the question. */
export interface TaskContext {
  schema: SchemaModel;
  linked: LinkedSchema;
  /** The previous turn's SQL when the question is a follow-up in a thread. */
  previousSql?: string | null;
  /** Worked examples (remembered corrections). */
  examples?: readonly { question: string; sql: string }[];
}

/** A failed query a correction prompt shows. */
export interface TaskFailure {
  failedSql: string;
  error: string;
  hint?: string;
}

/** Vocabularies below this many tokens are the tiny model's trimmed one. */
const TINY_VOCABULARY = 32_000;

/**
 * The style a model is asked (and trained) in: "tiny" for the tiny demo model, "schemaAware" otherwise.
 * @example
 * promptStyleForModel(await loadModel({ model: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" })); // "schemaAware"
 */
export function promptStyleForModel(model: { vocabularySize?: number }): PromptStyle {
  const size = model.vocabularySize;
  return typeof size === "number" && size > 0 && size < TINY_VOCABULARY ? "tiny" : "schemaAware";
}

/**
 * The question linked to the database: the schema, the linked tables and columns, and the literal values
 * found (bounded: each lookup ≤ 2 s, none after `deadline`, a `performance.now()` time).
 */
export async function linkQuestion(
  db: TaskDatabase,
  question: string,
  options: { signal?: AbortSignal; deadline?: number } = {},
): Promise<{ schema: SchemaModel; linked: LinkedSchema }> {
  const schema = await db.schema();
  const linked = await linkLiterals(question, schema, linkSchema(question, schema), db.executor, options);
  return { schema, linked };
}

function promptInput(style: PromptStyle, q: TaskQuestion, context: TaskContext | undefined): PromptInput {
  const evidence = q.evidence ? [q.evidence] : [];
  if (style === "tiny") return { question: q.question, ...(evidence.length ? { evidence: evidence[0]! } : {}) };
  if (context === undefined)
    throw new InputError(`the ${style} prompt needs the database: its schema and the question's linked tables`, {
      hint: "build it with buildTaskPrompt(db, style, question) (task/text2sqlPrompt.ts)",
    });
  const { schema, linked } = context;
  for (const l of linked.literals) evidence.push(`'${l.text}' is stored as '${l.value}' in ${l.table}.${l.column}`);
  if (context.previousSql) evidence.push(`The previous query was: ${context.previousSql}`);
  const input: PromptInput = { question: q.question };
  if (style === "schemaAware") {
    const tables = linked.tables.length > 0 ? linked.tables : schema.tables.map((t) => t.name);
    input.tables = tables.map((t): TableContext => ({ ddl: schemaDdl(schema, [t]) }));
  } else input.schema = schemaDdl(schema);
  if (evidence.length > 0) input.evidence = evidence.join("; ");
  if (context.examples?.length) input.examples = context.examples.map((e) => ({ question: e.question, sql: e.sql }));
  return input;
}

/** The prompt of a question in a style; the chat styles need the context (`linkQuestion`). */
export function taskPrompt(style: PromptStyle, q: TaskQuestion, context?: TaskContext): Prompt {
  return buildPrompt(style, promptInput(style, q, context));
}

/** The correction prompt: the same prompt plus the failed SQL, the error and its hint. */
export function taskCorrectionPrompt(
  style: PromptStyle,
  q: TaskQuestion,
  context: TaskContext | undefined,
  failure: TaskFailure,
): Prompt {
  return buildCorrectionPrompt(style, { ...promptInput(style, q, context), ...failure });
}

/** Links the question (chat styles only) and builds its prompt. */
export async function buildTaskPrompt(db: TaskDatabase | null, style: PromptStyle, q: TaskQuestion): Promise<Prompt> {
  if (style === "tiny") return taskPrompt(style, q);
  if (db === null)
    throw new InputError(`the ${style} prompt needs a database`, { hint: "pass the database the questions are about" });
  return taskPrompt(style, q, await linkQuestion(db, q.question));
}

/**
 * The prompts of many questions (a dataset), one after another — the database is one connection.
 * @example
 * const prompts = await buildTaskPrompts(taskDatabase(db), "schemaAware", await loadDataset("my.jsonl"));
 */
export async function buildTaskPrompts(
  db: TaskDatabase | null,
  style: PromptStyle,
  questions: readonly TaskQuestion[],
): Promise<Prompt[]> {
  const prompts: Prompt[] = [];
  for (const q of questions) prompts.push(await buildTaskPrompt(db, style, q));
  return prompts;
}
