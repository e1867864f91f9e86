/**
 * How `gl-rl exec|validate|compare` print results: JSON lines (`--json`, `--file`) and plain tables.
 *
 * (Rows as `{ column: value }` objects: sql/sqlExecutor.ts `queryResultRows`.)
 * - `toJsonLine(value)`: one JSON line; `bigint` becomes a number when it is exact, else a string;
 *   `Date` its ISO string; bytes `\x…` hex.
 * - `formatQueryResult(columns, rows)`: an aligned text table (NULL shown as `NULL`, cells cut at 60
 *   characters).
 *
 * @example
 * process.stdout.write(formatQueryResult(["id", "name"], [[1, "Acme"]]));
 * // id | name
 * // ---+-----
 * // 1  | Acme
 */
import type { GlRlError } from "../errors.js";

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  return value;
}

/** One line of JSON (with a trailing newline), safe for bigint and bytes. */
export function toJsonLine(value: unknown): string {
  return `${JSON.stringify(value, jsonValue)}\n`;
}

/** `{ code, message, hint }` of a gl-rl error. */
export function errorJson(error: GlRlError): { code: string; message: string; hint?: string } {
  return error.toJSON();
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === "object"
        ? JSON.stringify(value, jsonValue)
        : String(value);
  const flat = text.replace(/\s+/g, " ");
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}

/** An aligned text table with a header rule, ending in a newline. */
export function formatQueryResult(columns: string[], rows: unknown[][]): string {
  const body = rows.map((row) => columns.map((_, j) => cell(row[j])));
  const widths = columns.map((name, j) => Math.max(name.length, ...body.map((r) => r[j]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, j) => c.padEnd(widths[j]!))
      .join(" | ")
      .trimEnd();
  return `${[line(columns), widths.map((w) => "-".repeat(w)).join("-+-"), ...body.map(line)].join("\n")}\n`;
}
