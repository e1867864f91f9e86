import { describe, expect, test } from "@jest/globals";
import { extractSql } from "./extractSql.js";

describe("extractSql", () => {
  const cases: [string, string, string | null, string | null][] = [
    [
      "fenced block with prose around",
      "Count the rows.\n```sql\nSELECT count(*) FROM account;\n```\nThat is all.",
      "SELECT count(*) FROM account",
      "Count the rows.",
    ],
    ["several blocks: the last one wins", "```sql\nSELECT 1\n```\nBetter:\n```sql\nSELECT 2;\n```", "SELECT 2", null],
    ["bare fence that holds SQL", "```\nSELECT a FROM t\n```", "SELECT a FROM t", null],
    [
      "missing fence, trailing prose",
      "SELECT name FROM customer WHERE id = 3;\nThis returns the name.",
      "SELECT name FROM customer WHERE id = 3",
      null,
    ],
    [
      "a ; inside a string literal does not end the statement",
      "SELECT name FROM vendors WHERE country = '); Partners' AND note <> 'it''s; fine';\nDone.",
      "SELECT name FROM vendors WHERE country = '); Partners' AND note <> 'it''s; fine'",
      null,
    ],
    ["a ; inside a quoted identifier", 'SELECT "a;b" FROM t; SELECT 2', "SELECT 2", null],
    ["missing fence, prose after a blank line", "select x from y\n\nHope this helps", "select x from y", null],
    [
      "unclosed fence",
      "Here:\n```sql\nSELECT id FROM invoice WHERE total > 10",
      "SELECT id FROM invoice WHERE total > 10",
      "Here:",
    ],
    ["unclosed reasoning tag", "<reasoning>join the tables\n```sql\nSELECT 1;\n```", "SELECT 1", "join the tables"],
    [
      "closed reasoning tag",
      "<reasoning>\nsum the amounts\n</reasoning>\n```sql\nSELECT sum(amount) FROM journal_line\n```",
      "SELECT sum(amount) FROM journal_line",
      "sum the amounts",
    ],
    ["think tag", "<think>we select the rows</think>SELECT * FROM t", "SELECT * FROM t", "we select the rows"],
    [
      "prose mentioning select is not SQL",
      "We select the count.\nSELECT count(*) FROM t",
      "SELECT count(*) FROM t",
      null,
    ],
    [
      "CTE in one paragraph",
      "WITH x AS (SELECT 1 AS a)\nSELECT a FROM x;",
      "WITH x AS (SELECT 1 AS a)\nSELECT a FROM x",
      null,
    ],
    ["last of several bare statements", "SELECT 1;\nSELECT 2;", "SELECT 2", null],
    ["nothing that looks like SQL", "I do not know.", null, null],
    ["empty sql block falls back to an earlier one", "```sql\nSELECT 5\n```\n```sql\n\n```", "SELECT 5", null],
  ];
  test.each(cases)("%s", (_name, answer, sql, reasoning) => {
    expect(extractSql(answer)).toEqual({ sql, reasoning });
  });
});
