import { describe, expect, test } from "@jest/globals";
import { vocabularyWords } from "./vocabularyWords.js";

describe('vocabularyWords (the made-up values of augmentPool "vocabulary")', () => {
  const tokens = ["Ġequ", "ity", "Ġ", "SELECT", "12", "ab", "Ġ'", "ĠMining", "pol", "aris", "ĠJap"];

  test("spelled from alphabetic tokens of ≥ 3 letters, 1–2 words, seeded, distinct", () => {
    const words = vocabularyWords(tokens, 200, 7, new Set());
    expect(words.length).toBeGreaterThan(100);
    expect(new Set(words).size).toBe(words.length);
    const pieces = ["equ", "ity", "select", "mining", "pol", "aris", "jap"];
    const piece = `(?:${pieces.join("|")})`;
    const word = new RegExp(`^${piece}{1,2}$`, "i");
    for (const value of words) {
      const parts = value.split(" ");
      expect(parts.length).toBeLessThanOrEqual(2);
      for (const part of parts) expect(part).toMatch(word);
    }
    expect(words.some((w) => w.includes(" "))).toBe(true);
    expect(words.some((w) => /^[A-Z]/.test(w))).toBe(true);
    expect(vocabularyWords(tokens, 200, 7, new Set())).toEqual(words);
    expect(vocabularyWords(tokens, 200, 8, new Set())).not.toEqual(words);
  });

  test("never a held-out value; a vocabulary without words is refused", () => {
    const all = vocabularyWords(["Ġequ", "ity"], 50, 1, new Set());
    expect(all).toContain("equity");
    const kept = vocabularyWords(["Ġequ", "ity"], 50, 1, new Set(["equity", "Equity"]));
    expect(kept).not.toContain("equity");
    expect(kept).not.toContain("Equity");
    expect(() => vocabularyWords(["12", "Ġ'"], 5, 0, new Set())).toThrow(/no alphabetic tokens/);
  });
});
