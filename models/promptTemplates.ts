/**
 * The prompt templates: how one prompt of each style is written. What goes into them — which tables, which
 * values, which style for which model — is the task's (task/text2sqlPrompt.ts), the one prompt builder of
 * `ask`, `eval`, `train sft`, `train grpo` and the benches.
 *
 * Styles (docs/prompts.md):
 *   - "tiny":           the question (and evidence) alone; completion = the SQL, then EOS. The tiny demo
 *                       model learns the demo schema by heart, so sequences stay tens of tokens long.
 *   - "zeroShot":       system instructions + schema DDL (if given) + question; answer in a ```sql block.
 *   - "fewShot":        zeroShot + worked question → SQL examples (every chat style shows examples when
 *                       given some: the orchestrator passes the user's remembered corrections).
 *   - "reasoningFirst": think step by step in a <reasoning> block, then one ```sql block.
 *   - "schemaAware":    DDL of the linked tables with column comments, sample values, and the evidence.
 *   - correction:       the failed SQL, the validator's / database's error and its hint.
 * Chat prompts are rendered as ChatML (Qwen's template) by `renderPrompt`, and the trainer's token ids
 * come from `trainingTokens`, the same rendering and tokenization the sampler uses: prompt tokens are
 * tokenized with special tokens on, completion tokens without, then EOS appended.
 */
import type { ChatMessage, Prompt } from "./textGenerator.js";

export type PromptStyle = "tiny" | "zeroShot" | "fewShot" | "reasoningFirst" | "schemaAware";

/** One table for the schema-aware prompt. */
export interface TableContext {
  /** CREATE TABLE statement. */
  ddl: string;
  /** column → comment. */
  columnComments?: Record<string, string>;
  /** column → a few sample values. */
  sampleValues?: Record<string, (string | number | null)[]>;
}

export interface PromptInput {
  question: string;
  /** External knowledge (BIRD "evidence"). */
  evidence?: string;
  /** Schema DDL as one text (zeroShot / fewShot / reasoningFirst). */
  schema?: string;
  /** Linked tables (schemaAware). */
  tables?: TableContext[];
  /** Worked examples (any chat style; "tiny" has no room for them). */
  examples?: { question: string; sql: string }[];
}

export interface CorrectionInput extends PromptInput {
  failedSql: string;
  error: string;
  hint?: string;
}

const SYSTEM = "You are an expert PostgreSQL assistant. Write one read-only SQL query that answers the question.";
const ANSWER_FORMAT = "Answer with exactly one SQL query in a ```sql fenced block.";
const REASONING_FORMAT =
  "First reason step by step inside <reasoning> and </reasoning>, then give exactly one SQL query in a ```sql fenced block.";
const TINY_EVIDENCE = "\nEvidence: ";
const TINY_END = "\nSQL:\n";

/** The templates' fixed text (for the tiny model's vocabulary corpus). */
export const PROMPT_FIXED_TEXTS: readonly string[] = [
  SYSTEM,
  ANSWER_FORMAT,
  REASONING_FORMAT,
  TINY_EVIDENCE,
  TINY_END,
  "Database schema:",
  "Question:",
  "Evidence:",
  "Examples:",
  "Relevant tables:",
  "Sample values:",
  "The previous query failed.",
  "Failed SQL:",
  "Error:",
  "Hint:",
  "Write a corrected query.",
  "<reasoning>",
  "</reasoning>",
  "```sql\nSELECT 1;\n```",
];

function tableText(t: TableContext): string {
  const lines = [t.ddl.trim()];
  for (const [col, comment] of Object.entries(t.columnComments ?? {})) lines.push(`-- ${col}: ${comment}`);
  const samples = Object.entries(t.sampleValues ?? {});
  if (samples.length) {
    lines.push("-- Sample values:");
    for (const [col, vals] of samples)
      lines.push(`--   ${col}: ${vals.map((v) => (v === null ? "NULL" : JSON.stringify(v))).join(", ")}`);
  }
  return lines.join("\n");
}

function userText(style: Exclude<PromptStyle, "tiny">, input: PromptInput): string {
  const parts: string[] = [];
  if (style === "schemaAware" && input.tables?.length)
    parts.push(`Relevant tables:\n${input.tables.map(tableText).join("\n\n")}`);
  else if (input.schema) parts.push(`Database schema:\n${input.schema.trim()}`);
  if (input.examples?.length) {
    parts.push(
      `Examples:\n${input.examples.map((e) => `Question: ${e.question}\n\`\`\`sql\n${e.sql.trim()}\n\`\`\``).join("\n\n")}`,
    );
  }
  if (input.evidence) parts.push(`Evidence: ${input.evidence}`);
  parts.push(`Question: ${input.question}`);
  parts.push(style === "reasoningFirst" ? REASONING_FORMAT : ANSWER_FORMAT);
  return parts.join("\n\n");
}

/**
 * Builds a prompt of a style.
 * @example
 * buildPrompt("tiny", { question: "How many accounts are there?" });
 * // { text: "How many accounts are there?\nSQL:\n" }
 */
export function buildPrompt(style: PromptStyle, input: PromptInput): Prompt {
  if (style === "tiny") {
    return { text: `${input.question}${input.evidence ? `${TINY_EVIDENCE}${input.evidence}` : ""}${TINY_END}` };
  }
  return {
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: userText(style, input) },
    ],
  };
}

/** The error-correction prompt: the question, the failed SQL, the error and its hint. */
export function buildCorrectionPrompt(style: PromptStyle, input: CorrectionInput): Prompt {
  const failure = `The previous query failed.\nFailed SQL:\n${input.failedSql.trim()}\nError: ${input.error}${input.hint ? `\nHint: ${input.hint}` : ""}`;
  if (style === "tiny") {
    return {
      text: `${input.question}${input.evidence ? `${TINY_EVIDENCE}${input.evidence}` : ""}\n${failure}${TINY_END}`,
    };
  }
  const base = buildPrompt(style, input) as { messages: ChatMessage[] };
  const user = base.messages[1]!;
  return {
    messages: [base.messages[0]!, { role: "user", content: `${user.content}\n\n${failure}\nWrite a corrected query.` }],
  };
}

/** The completion text a model is trained to produce: the bare SQL (tiny), or reasoning + a fenced block. */
export function formatCompletion(style: PromptStyle, sql: string, reasoning?: string): string {
  const body = sql.trim();
  if (style === "tiny") return body;
  const fenced = `\`\`\`sql\n${body}\n\`\`\``;
  return reasoning ? `<reasoning>\n${reasoning.trim()}\n</reasoning>\n${fenced}` : fenced;
}

/** Renders a prompt as the exact text the model sees: ChatML for messages (Qwen's template). */
export function renderPrompt(prompt: Prompt): string {
  if ("text" in prompt) return prompt.text;
  return `${prompt.messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("")}<|im_start|>assistant\n`;
}

/** The tokenizer subset `trainingTokens` needs (a LoadedModel has it). */
export interface PromptTokenizer {
  tokenize(text: string, specialTokens?: boolean): number[];
  /** End-of-generation token appended to a training completion. */
  readonly eosToken: number;
}

/**
 * The token ids a prompt + completion are trained on, exactly as the sampler sees them: prompt rendered
 * and tokenized with special tokens, completion tokenized as plain text, then EOS.
 * @example
 * const { promptTokens, completionTokens } = trainingTokens(model, buildPrompt("tiny", row), formatCompletion("tiny", row.sql));
 */
export function trainingTokens(
  tokenizer: PromptTokenizer,
  prompt: Prompt,
  completion: string,
): { promptTokens: number[]; completionTokens: number[] } {
  return {
    promptTokens: tokenizer.tokenize(renderPrompt(prompt), true),
    completionTokens: [...tokenizer.tokenize(completion, false), tokenizer.eosToken],
  };
}

/** GBNF forcing the answer shape: a reasoning block, then exactly one ```sql fenced block. */
const FENCE = "```";
export const REASONING_THEN_SQL_GRAMMAR = [
  `root ::= "<reasoning>\\n" reasoning "</reasoning>\\n${FENCE}sql\\n" sql "\\n${FENCE}"`,
  "reasoning ::= [^<]+",
  "sql ::= [^`]+",
].join("\n");
