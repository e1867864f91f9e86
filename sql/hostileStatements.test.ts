import { hostileStatements } from "./hostileStatements.js";

describe("hostileStatements fixture", () => {
  it("holds at least 40 distinct statements", () => {
    expect(hostileStatements.length).toBeGreaterThanOrEqual(40);
    expect(new Set(hostileStatements.map((h) => h.sql)).size).toBe(hostileStatements.length);
  });
  it("covers every category with a note", () => {
    const categories = new Set(hostileStatements.map((h) => h.category));
    for (const c of [
      "write",
      "ddl",
      "multi-statement",
      "comment-injection",
      "string-injection",
      "dangerous-function",
      "catalog-access",
      "locking",
      "utility",
      "transaction-control",
      "session",
    ]) {
      expect(categories.has(c as never)).toBe(true);
    }
    for (const h of hostileStatements) expect(h.note.length).toBeGreaterThan(0);
  });
});
