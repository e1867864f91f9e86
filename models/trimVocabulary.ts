/**
 * Trims a byte-level BPE vocabulary (Qwen2's) to the tokens a text corpus needs, keeping that corpus's
 * tokenization identical (docs/native.md: 4,925 of 151,936 tokens for BIRD Mini-Dev; the embedding
 * and the tied head shrink ~30×, which is what makes training the tiny model take minutes).
 *
 * Algorithm:
 *   1. kept = the tokens the full tokenizer produced for the corpus ∪ the 256 byte-level base tokens
 *      (GPT-2 bytes_to_unicode) ∪ the special tokens (type ≠ 1, except "[PAD…]" fillers).
 *   2. Closure: for every merge "a b" whose result a+b is kept, keep a and b; repeat to a fixpoint.
 *      (Then every merge the full tokenizer applies to corpus text survives: each intermediate symbol of a
 *      corpus word is an input of a merge whose result is kept, by induction from the final tokens.)
 *   3. Keep the merges whose inputs and result are all kept, in their original order (rank). At each step
 *      the trimmed tokenizer's lowest-rank applicable merge is the full one's, so corpus tokenization
 *      is unchanged; other text still round-trips through the byte tokens.
 *   4. Token ids are renumbered in original order.
 */
import type { Qwen2Vocabulary } from "./qwen2Vocabulary.js";

export interface TrimmedVocabulary {
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
}

/** GPT-2's byte → printable character map; the 256 strings are the base tokens of byte-level BPE. */
export function byteLevelAlphabet(): string[] {
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return out;
}

/**
 * @param usedTokens token strings the full tokenizer produced for the corpus.
 * @example
 * const trimmed = trimVocabulary(loadQwen2Vocabulary(), new Set(["SELECT", "ĠFROM"]));
 */
export function trimVocabulary(
  full: Pick<Qwen2Vocabulary, "tokens" | "tokenTypes" | "merges">,
  usedTokens: Iterable<string>,
): TrimmedVocabulary {
  const kept = new Set<string>(usedTokens);
  for (const ch of byteLevelAlphabet()) kept.add(ch);
  full.tokens.forEach((t, i) => {
    if (full.tokenTypes[i] !== 1 && !t.startsWith("[PAD")) kept.add(t);
  });

  const splits = full.merges.map((m) => {
    const space = m.indexOf(" ", 1);
    return [m.slice(0, space), m.slice(space + 1)] as const;
  });
  for (let changed = true; changed; ) {
    changed = false;
    for (const [a, b] of splits) {
      if (kept.has(a + b)) {
        if (!kept.has(a)) {
          kept.add(a);
          changed = true;
        }
        if (!kept.has(b)) {
          kept.add(b);
          changed = true;
        }
      }
    }
  }
  const tokens: string[] = [];
  const tokenTypes: number[] = [];
  full.tokens.forEach((t, i) => {
    if (kept.has(t)) {
      tokens.push(t);
      tokenTypes.push(full.tokenTypes[i]!);
    }
  });
  const inVocab = new Set(tokens);
  const merges = full.merges.filter((_, i) => {
    const [a, b] = splits[i]!;
    return inVocab.has(a) && inVocab.has(b) && inVocab.has(a + b);
  });
  return { tokens, tokenTypes, merges };
}
