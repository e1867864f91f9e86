/**
 * Dataset items → prompts and SFT token sequences, the same way for training and evaluation:
 * `datasetPrompt` renders an item in a prompt style (models/promptTemplates.ts; the non-tiny styles get the
 * schema DDL), `sftExamples` tokenizes prompt + completion (the bare SQL for "tiny", a fenced block
 * otherwise, then EOS) with `trainingTokens`.
 *
 * @example
 * const examples = sftExamples(model, await loadDataset("train"), { style: "tiny" });
 * // examples[0].completionTokens ends with model.eosToken
 */
import type { QuestionSqlPair } from "../data/loadDataset.js";
import {
  buildPrompt,
  formatCompletion,
  trainingTokens,
  type PromptStyle,
  type PromptTokenizer,
} from "../models/promptTemplates.js";
import type { Prompt } from "../models/textGenerator.js";
import type { SftExample } from "./sftTrainer.js";

export type PromptItem = QuestionSqlPair;

/** The prompt of an item in a style; `schema` (DDL) is used by the non-tiny styles. */
export function datasetPrompt(style: PromptStyle, item: Omit<PromptItem, "sql">, schema?: string): Prompt {
  return buildPrompt(style, {
    question: item.question,
    ...(item.evidence ? { evidence: item.evidence } : {}),
    ...(style !== "tiny" && schema ? { schema } : {}),
  });
}

/** Tokenized SFT examples of dataset items (loss on the completion only). */
export function sftExamples(
  tokenizer: PromptTokenizer,
  items: readonly PromptItem[],
  options: { style: PromptStyle; schema?: string },
): SftExample[] {
  return items.map((item) =>
    trainingTokens(
      tokenizer,
      datasetPrompt(options.style, item, options.schema),
      formatCompletion(options.style, item.sql),
    ),
  );
}
