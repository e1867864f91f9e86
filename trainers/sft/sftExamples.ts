/**
 * Dataset items → SFT token sequences: each item's prompt (built by the task, task/text2sqlPrompt.ts — the
 * same prompt `ask` sends and evaluation and GRPO use) and its completion (the bare SQL for "tiny", a
 * ```sql fenced block otherwise, models/promptTemplates.ts `formatCompletion`), tokenized with
 * `trainingTokens`: prompt with special tokens, completion as text, then EOS (the loss is on the completion).
 * The "tiny" prompts need no database; the other styles' prompts come from `buildTaskPrompts(db, style, items)`.
 *
 * @example
 * const examples = sftExamples(model, await loadDataset("train"), { style: "tiny" });
 * const mine = sftExamples(model, items, { style: "schemaAware", prompts: await buildTaskPrompts(taskDatabase(db), "schemaAware", items) });
 * // examples[0].completionTokens ends with model.eosToken
 */
import type { QuestionSqlPair } from "../../data/loadDataset.js";
import { InputError } from "../../errors.js";
import {
  formatCompletion,
  trainingTokens,
  type PromptStyle,
  type PromptTokenizer,
} from "../../models/promptTemplates.js";
import type { Prompt } from "../../models/textGenerator.js";
import { taskPrompt } from "../../task/text2sqlPrompt.js";
import type { SftExample } from "./sftTrainer.js";

/** Tokenized SFT examples of dataset items (loss on the completion only); `prompts[i]` is item i's prompt. */
export function sftExamples(
  tokenizer: PromptTokenizer,
  items: readonly QuestionSqlPair[],
  options: { style: PromptStyle; prompts?: readonly Prompt[] },
): SftExample[] {
  const { style, prompts } = options;
  if (prompts !== undefined && prompts.length !== items.length)
    throw new InputError(`sftExamples: ${prompts.length} prompts for ${items.length} items`, {
      hint: "build one prompt per item with buildTaskPrompts(db, style, items)",
    });
  return items.map((item, i) =>
    trainingTokens(tokenizer, prompts?.[i] ?? taskPrompt(style, item), formatCompletion(style, item.sql)),
  );
}
