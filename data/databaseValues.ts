/**
 * The values a database holds, per text column — for literal-swap augmentation that draws a question's
 * new filter value from the SAME column of the user's database (so "customers in Sweden" becomes
 * "customers in Japan", not "customers in Engineering"). A text-to-SQL model for one database may know its
 * values: they are data the user has, not answers (no question or gold query is read).
 *
 *   columns   every text / varchar / char column of the schema (sql/schemaModel.ts introspectSchema)
 *   values    SELECT DISTINCT col … LIMIT maxDistinct + 1 through the sandboxed executor; a column with more
 *             distinct values than maxDistinct (free text: descriptions, e-mails) is skipped, as are values
 *             longer than maxLength characters or empty
 *   swap      sameColumnSubstitutes(values)(literal, sql) = the other values of the column(s) that hold
 *             literal (the one the SQL compares it with, when several do)
 *   augment   augmentFromDatabase(items, db): literal-swapped variants whose gold SQL runs and returns rows
 *             (`gl-rl data augment`)
 *
 * @example
 * const values = await databaseTextValues(db);             // Map { "customers.country" => ["Chile", "Japan", …], … }
 * const others = sameColumnSubstitutes(values);
 * others("Sweden");                                        // ["Chile", "Japan", …] (never "Sweden")
 */
import { introspectSchema } from "../sql/schemaModel.js";
import type { QueryResult, SqlExecutor } from "../sql/sqlExecutor.js";
import { augmentLiterals, copiedLiterals, escapeRegExp } from "./literalAugmentation.js";
import type { QuestionSqlPair } from "./loadDataset.js";

export interface DatabaseTextValuesOptions {
  /** Columns with more distinct values than this are skipped. Default 200. */
  maxDistinct?: number;
  /** Values longer than this are dropped. Default 40. */
  maxLength?: number;
}

const TEXT_TYPE = /^(text|character varying|varchar|character|char|citext)\b/;
const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** "table.column" (schema-qualified outside public) → its distinct values, sorted. */
export async function databaseTextValues(
  executor: Pick<SqlExecutor, "execute" | "description">,
  options: DatabaseTextValuesOptions = {},
): Promise<Map<string, string[]>> {
  const maxDistinct = options.maxDistinct ?? 200;
  const maxLength = options.maxLength ?? 40;
  const schema = await introspectSchema(executor);
  const out = new Map<string, string[]>();
  for (const table of schema.tables) {
    const tableRef = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
    for (const column of table.columns.filter((c) => TEXT_TYPE.test(c.type))) {
      const col = quoteIdent(column.name);
      const result = await executor.execute(
        `SELECT DISTINCT ${col} FROM ${tableRef} WHERE ${col} IS NOT NULL LIMIT ${maxDistinct + 1}`,
        { maxRows: maxDistinct + 1 },
      );
      if (result.rows.length > maxDistinct) continue;
      const values = result.rows
        .map((r) => String(r[0]))
        .filter((v) => v.length > 0 && v.length <= maxLength)
        .sort();
      if (values.length > 1)
        out.set(`${table.schema === "public" ? "" : `${table.schema}.`}${table.name}.${column.name}`, values);
    }
  }
  return out;
}

/**
 * (literal, sql) → the other values of the columns that hold the literal. When the SQL compares a column
 * with it (`a.name = 'X'`, `status IN ('X', …)`, `title LIKE 'X'`), only columns of that name count — a
 * value held by several columns ('Marketing': an account name and a vendor category) is swapped within the
 * one the query filters. Empty when no column holds the literal.
 */
export function sameColumnSubstitutes(
  values: ReadonlyMap<string, readonly string[]>,
): (literal: string, sql?: string) => string[] {
  const columnsOf = new Map<string, string[]>();
  for (const [column, vs] of values) for (const v of vs) columnsOf.set(v, [...(columnsOf.get(v) ?? []), column]);
  return (literal, sql) => {
    let columns = columnsOf.get(literal) ?? [];
    const compared = sql === undefined ? undefined : comparedColumn(sql, literal);
    const named = columns.filter((c) => c.split(".").at(-1) === compared);
    if (named.length > 0) columns = named;
    const others = new Set(columns.flatMap((c) => values.get(c)!));
    others.delete(literal);
    return [...others].sort();
  };
}

/** The column name compared with 'literal' in sql (`x.col = 'lit'`, `col IN (…, 'lit')`), if any. */
function comparedColumn(sql: string, literal: string): string | undefined {
  const quoted = escapeRegExp(`'${literal.replace(/'/g, "''")}'`);
  const match = new RegExp(
    `(\\w+)\\s*(?:=|<>|!=|(?:NOT\\s+)?I?LIKE|(?:NOT\\s+)?IN\\s*\\((?:'(?:[^']|'')*'\\s*,\\s*)*)\\s*${quoted}`,
    "i",
  ).exec(sql);
  return match?.[1]?.toLowerCase();
}

export interface AugmentFromDatabaseOptions extends DatabaseTextValuesOptions {
  /** Swapped variants per item with a copyable literal. Default 4. */
  copies?: number;
  /** PRNG seed. Default 0. */
  seed?: number;
  /** Keep variants whose gold SQL returns no rows (or one all-NULL row). Default false. */
  keepEmpty?: boolean;
  /** Per-query time limit, ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Held-out pairs (dev / test): a variant whose question or gold SQL equals one of theirs (case and
   * whitespace ignored) is dropped — a swap can land exactly on a held-out question.
   */
  exclude?: readonly Pick<QuestionSqlPair, "question" | "sql">[];
}

export interface AugmentFromDatabaseResult<T> {
  /** The kept variants (ids suffixed `.swap<k>`), in generation order; the input items are not included. */
  items: T[];
  generated: number;
  droppedEmpty: number;
  /** Variants whose gold SQL the database rejected (e.g. a redrawn date '2025-09-58'). */
  droppedFailed: number;
  /** Variants equal to an `exclude` pair. */
  droppedExcluded: number;
}

const normalise = (text: string): string => text.toLowerCase().replace(/\s+/g, " ").trim();

/**
 * New question → SQL pairs from `items` by literal swap (trainers/literalAugmentation.ts) with substitutes
 * drawn from the same database column; a variant equal to a held-out pair (`exclude`) is dropped; each gold
 * query is executed sandboxed: one that fails is dropped, one that returns nothing is dropped unless keepEmpty (an empty gold result matches every other empty result,
 * so it rewards wrong queries). For GRPO prompts that look like held-out questions: same templates, the
 * database's other values.
 */
export async function augmentFromDatabase<T extends QuestionSqlPair & { id?: string }>(
  items: readonly T[],
  executor: Pick<SqlExecutor, "execute" | "description">,
  options: AugmentFromDatabaseOptions = {},
): Promise<AugmentFromDatabaseResult<T>> {
  const values = await databaseTextValues(executor, options);
  const copyable = items.filter((i) => copiedLiterals(i.question, i.sql).length > 0);
  const variants = augmentLiterals(copyable, {
    copies: options.copies ?? 4,
    seed: options.seed ?? 0,
    substitutes: sameColumnSubstitutes(values),
  }).slice(copyable.length);
  const excluded = new Set(
    (options.exclude ?? []).flatMap((e) => [`q:${normalise(e.question)}`, `s:${normalise(e.sql)}`]),
  );
  const out: T[] = [];
  let droppedEmpty = 0;
  let droppedFailed = 0;
  let droppedExcluded = 0;
  for (const [k, variant] of variants.entries()) {
    if (excluded.has(`q:${normalise(variant.question)}`) || excluded.has(`s:${normalise(variant.sql)}`)) {
      droppedExcluded++;
      continue;
    }
    let result: QueryResult;
    try {
      result = await executor.execute(variant.sql, { maxRows: 1000, timeoutMs: options.timeoutMs ?? 5000 });
    } catch {
      droppedFailed++;
      continue;
    }
    const empty = result.rowCount === 0 || (result.rowCount === 1 && result.rows[0]!.every((v) => v === null));
    if (empty && !options.keepEmpty) {
      droppedEmpty++;
      continue;
    }
    out.push({ ...variant, ...(variant.id === undefined ? {} : { id: `${variant.id}.swap${k}` }) });
  }
  return { items: out, generated: variants.length, droppedEmpty, droppedFailed, droppedExcluded };
}
