import { parseSql } from "./parseSql.js";

describe("parseSql", () => {
  it("parses one SELECT into a single statement", () => {
    const p = parseSql("SELECT a FROM t WHERE b = 1");
    expect(p.error).toBeNull();
    expect(p.statementCount).toBe(1);
    expect(p.ast?.type).toBe("select");
  });
  it("counts several statements and leaves ast null", () => {
    const p = parseSql("SELECT 1; DELETE FROM t");
    expect(p.statementCount).toBe(2);
    expect(p.ast).toBeNull();
    expect(p.statements[1]?.type).toBe("delete");
  });
  it("reports the parser's error on syntax it does not know", () => {
    const p = parseSql("SELECT a FROM t INTERSECT SELECT a FROM u");
    expect(p.ast).toBeNull();
    expect(p.statementCount).toBe(0);
    expect(typeof p.error).toBe("string");
  });
  it("returns the cached object for the same text", () => {
    expect(parseSql("SELECT 42")).toBe(parseSql("SELECT 42"));
  });
});
