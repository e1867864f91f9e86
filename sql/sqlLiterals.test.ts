import { describe, expect, test } from "@jest/globals";
import { sqlStringLiteralsOf, withoutStringLiterals } from "./sqlLiterals.js";

describe("sqlLiterals", () => {
  test.each([
    ["SELECT 1 WHERE name = 'O''Brien' AND code = 'PRJ-1'", ["O'Brien", "PRJ-1"]],
    ["SELECT '' , 'a', 'a'", ["", "a", "a"]],
    ["SELECT broken WHERE x = 'unterminated", []],
    ["SELECT 1", []],
  ])("string literals of %s", (sql, expected) => {
    expect(sqlStringLiteralsOf(sql)).toEqual(expected);
  });

  test("what is outside the string literals", () => {
    expect(withoutStringLiterals("SELECT 'a1', 2 WHERE y = 'it''s 3'")).toBe("SELECT  , 2 WHERE y =  ");
  });
});
