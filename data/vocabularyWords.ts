/**
 * Made-up values spelled with a model's vocabulary, for literal augmentation that only copying can learn
 * (the demo model's `augmentPool: "vocabulary"`, trainers/demoModel.ts; measured in docs/experiments.md
 * "Recipes"): a value that no database and no training SQL holds can only be written by copying it from
 * the question.
 */
import { InputError } from "../errors.js";
import { mulberry32 } from "../runtime/mulberry32.js";

/**
 * `count` made-up values from the model's vocabulary: each 1–2 words, each word 1–2 random alphabetic
 * tokens (≥ 3 letters, the byte-level "Ġ" space marker dropped), capitalised half the time. Seeded; never
 * one of `exclude` (the held-out splits' literals: a made-up value must not be a dev answer).
 */
export function vocabularyWords(
  tokens: readonly string[],
  count: number,
  seed: number,
  exclude: ReadonlySet<string>,
): string[] {
  const pieces = [...new Set(tokens.map((t) => t.replace(/^Ġ/, "")).filter((t) => /^[A-Za-z]{3,}$/.test(t)))];
  if (pieces.length === 0)
    throw new InputError("vocabulary words: the vocabulary has no alphabetic tokens to make values from");
  const random = mulberry32(seed);
  const pick = (): string => pieces[Math.floor(random() * pieces.length)]!.toLowerCase();
  const word = (): string => {
    const w = random() < 0.5 ? pick() : pick() + pick();
    return random() < 0.5 ? w[0]!.toUpperCase() + w.slice(1) : w;
  };
  const out = new Set<string>();
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    const value = random() < 0.3 ? `${word()} ${word()}` : word();
    if (!exclude.has(value)) out.add(value);
  }
  return [...out];
}
