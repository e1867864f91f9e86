import { describe, expect, test } from "@jest/globals";
import { byteLevelAlphabet, trimVocabulary } from "./trimVocabulary.js";

describe("trimVocabulary", () => {
  const alphabet = byteLevelAlphabet();
  test("GPT-2 byte alphabet", () => {
    expect(alphabet).toHaveLength(256);
    expect(new Set(alphabet).size).toBe(256);
    expect(alphabet[32]).toBe("Ġ");
    expect(alphabet[65]).toBe("A");
  });
  test("keeps used tokens, their merge closure, bytes and specials; merges in order", () => {
    const tokens = [...alphabet, "ab", "abc", "bc", "xy", "<|endoftext|>", "[PAD1]"];
    const tokenTypes = tokens.map((t) => (t.startsWith("<|") ? 3 : t.startsWith("[PAD") ? 4 : 1));
    const merges = ["a b", "b c", "x y", "ab c", "a bc"];
    const trimmed = trimVocabulary({ tokens, tokenTypes, merges }, ["abc"]);
    expect(trimmed.tokens.slice(256)).toEqual(["ab", "abc", "bc", "<|endoftext|>"]);
    expect(trimmed.merges).toEqual(["a b", "b c", "ab c", "a bc"]);
    expect(trimmed.tokenTypes.at(-1)).toBe(3);
  });
});
