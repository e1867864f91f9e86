import { describe, expect, test } from "@jest/globals";
import { DEFAULT_GENERATION_PARAMS, resolveGenerationParams, temperatureLadder } from "./generationParams.js";

describe("generation params", () => {
  test("defaults are fast: topK always set", () => {
    expect(resolveGenerationParams()).toEqual(DEFAULT_GENERATION_PARAMS);
    expect(DEFAULT_GENERATION_PARAMS.topK).toBe(40);
    expect(resolveGenerationParams({ temperature: 0.2, topK: undefined }).topK).toBe(40);
  });
  test.each([
    ["topK", 0],
    ["temperature", -1],
    ["maxTokens", 0],
    ["topP", 1.5],
    ["seed", 1.5],
  ])("rejects %s = %p", (field, value) => {
    expect(() => resolveGenerationParams({ [field]: value })).toThrow(new RegExp(`generation parameter ${field}`));
  });
  test("temperature ladder 0.3 … 0.9", () => {
    expect(temperatureLadder(4)).toEqual([0.3, 0.5, 0.7, 0.9]);
    expect(temperatureLadder(1)).toEqual([0.6]);
    expect(temperatureLadder(8)[7]).toBe(0.9);
  });
});
