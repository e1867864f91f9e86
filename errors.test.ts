import { describe, expect, it } from "@jest/globals";
import { GlRlError, InputError, ModelError, isGlRlError, isInputError, isModelError } from "./errors.js";

describe("errors", () => {
  it("carries code, hint and context, and serialises to { code, message, hint }", () => {
    const error = new InputError("dataset line 7 is not JSON", { hint: "one object per line", context: { line: 7 } });
    expect(error).toBeInstanceOf(GlRlError);
    expect(error.name).toBe("InputError");
    expect(error.code).toBe("input");
    expect(error.context).toEqual({ line: 7 });
    expect(error.toJSON()).toEqual({
      code: "input",
      message: "dataset line 7 is not JSON",
      hint: "one object per line",
    });
  });

  it("has a type guard for each family member that rejects the others", () => {
    const input = new InputError("x");
    const model = new ModelError("not_gguf", "y");
    expect([isGlRlError(input), isInputError(input), isModelError(input)]).toEqual([true, true, false]);
    expect([isGlRlError(model), isInputError(model), isModelError(model)]).toEqual([true, false, true]);
    expect(isGlRlError(new Error("plain"))).toBe(false);
  });
});
