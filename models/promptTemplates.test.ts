import { describe, expect, test } from "@jest/globals";
import {
  buildCorrectionPrompt,
  buildPrompt,
  formatCompletion,
  renderPrompt,
  trainingTokens,
} from "./promptTemplates.js";

const input = { question: "How many accounts are active?", evidence: "active means is_active = true" };

describe("prompt templates", () => {
  test("tiny: the question and evidence alone", () => {
    expect(buildPrompt("tiny", input)).toEqual({
      text: "How many accounts are active?\nEvidence: active means is_active = true\nSQL:\n",
    });
    expect(buildPrompt("tiny", { question: "Q?" })).toEqual({ text: "Q?\nSQL:\n" });
  });

  test("schema-aware carries DDL, column comments, sample values and evidence", () => {
    const p = buildPrompt("schemaAware", {
      ...input,
      tables: [
        {
          ddl: "CREATE TABLE account (id int, is_active boolean);",
          columnComments: { is_active: "open account" },
          sampleValues: { id: [1, 2, null] },
        },
      ],
    });
    const text = renderPrompt(p);
    expect(text.startsWith("<|im_start|>system\n")).toBe(true);
    expect(text.endsWith("<|im_end|>\n<|im_start|>assistant\n")).toBe(true);
    for (const part of [
      "CREATE TABLE account",
      "-- is_active: open account",
      "--   id: 1, 2, NULL",
      "Evidence: active means",
      "Question: How many",
    ])
      expect(text).toContain(part);
  });

  test("few-shot, reasoning-first and correction differ where they should", () => {
    const few = renderPrompt(
      buildPrompt("fewShot", { ...input, examples: [{ question: "All accounts?", sql: "SELECT * FROM account" }] }),
    );
    expect(few).toContain("Question: All accounts?\n```sql\nSELECT * FROM account\n```");
    expect(renderPrompt(buildPrompt("reasoningFirst", input))).toContain("<reasoning>");
    const fix = renderPrompt(
      buildCorrectionPrompt("zeroShot", {
        ...input,
        failedSql: "SELECT x FROM account",
        error: "column x does not exist",
        hint: "use id",
      }),
    );
    expect(fix).toContain("Failed SQL:\nSELECT x FROM account\nError: column x does not exist\nHint: use id");
    expect(
      (
        buildCorrectionPrompt("tiny", { ...input, failedSql: "SELECT 1", error: "e" }) as { text: string }
      ).text.endsWith("\nSQL:\n"),
    ).toBe(true);
  });

  test("completion formats", () => {
    expect(formatCompletion("tiny", " SELECT 1; ")).toBe("SELECT 1;");
    expect(formatCompletion("reasoningFirst", "SELECT 1", "one row")).toBe(
      "<reasoning>\none row\n</reasoning>\n```sql\nSELECT 1\n```",
    );
  });

  test("training tokens: prompt with special tokens, completion plain, then EOS", () => {
    const seen: [string, boolean | undefined][] = [];
    const tok = {
      eosToken: 99,
      tokenize: (t: string, s?: boolean) => {
        seen.push([t, s]);
        return [...t].map((c) => c.charCodeAt(0));
      },
    };
    const r = trainingTokens(tok, { text: "Q\n" }, "AB");
    expect(r).toEqual({ promptTokens: [81, 10], completionTokens: [65, 66, 99] });
    expect(seen).toEqual([
      ["Q\n", true],
      ["AB", false],
    ]);
  });
});
