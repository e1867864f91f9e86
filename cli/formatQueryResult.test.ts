import { describe, expect, it } from "@jest/globals";
import { formatQueryResult, toJsonLine } from "./formatQueryResult.js";
import { queryResultRows } from "../sql/sqlExecutor.js";

describe("formatQueryResult", () => {
  it("keys rows by column name and keeps repeated names apart", () => {
    const rows = queryResultRows({
      columns: [
        { name: "count", type: "int8" },
        { name: "count", type: "int8" },
        { name: "name", type: "text" },
      ],
      rows: [
        [1, 2, "a"],
        [3, 4, null],
      ],
      rowCount: 2,
      truncated: false,
      elapsedMs: 1,
    });
    expect(rows).toEqual([
      { count: 1, count_2: 2, name: "a" },
      { count: 3, count_2: 4, name: null },
    ]);
  });

  it("writes bigint, bytes and dates as JSON", () => {
    expect(toJsonLine({ a: 12n, b: 2n ** 70n, c: new Uint8Array([1, 255]), d: new Date(Date.UTC(2024, 0, 2)) })).toBe(
      '{"a":12,"b":"1180591620717411303424","c":"\\\\x01ff","d":"2024-01-02T00:00:00.000Z"}\n',
    );
  });

  it("renders an aligned table with NULLs", () => {
    expect(
      formatQueryResult(
        ["id", "name"],
        [
          [1, "Acme Corp"],
          [22, null],
        ],
      ),
    ).toBe("id | name\n---+----------\n1  | Acme Corp\n22 | NULL\n");
  });
});
