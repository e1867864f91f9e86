/**
 * parseSql — parse a SQL text ONCE with pgsql-ast-parser and share the result.
 *
 * Algorithm: `parse(sql)` from pgsql-ast-parser (throws on syntax it does not know — see
 * docs/ecosystem.md: INTERSECT/EXCEPT, window frames, IS DISTINCT FROM, …). The outcome is cached by
 * exact text in a bounded Map (insertion-order LRU, at most CACHE_LIMIT entries).
 * `ast` is the single statement when there is exactly one, else null; `statementCount` is the
 * number of statements the parser saw (0 when it failed).
 */
import { parse, type Statement } from "pgsql-ast-parser";

export interface ParsedSql {
  /** The original text. */
  readonly sql: string;
  /** The statement when the text holds exactly one, else null. */
  readonly ast: Statement | null;
  /** Every statement parsed (empty when parsing failed). */
  readonly statements: readonly Statement[];
  /** Number of statements parsed (0 on failure). */
  readonly statementCount: number;
  /** Parser message when pgsql-ast-parser failed, else null. */
  readonly error: string | null;
}

const CACHE_LIMIT = 2048;
const cache = new Map<string, ParsedSql>();

export function parseSql(sql: string): ParsedSql {
  const hit = cache.get(sql);
  if (hit !== undefined) {
    cache.delete(sql);
    cache.set(sql, hit);
    return hit;
  }
  let result: ParsedSql;
  try {
    const statements = parse(sql);
    result = {
      sql,
      ast: statements.length === 1 ? statements[0]! : null,
      statements,
      statementCount: statements.length,
      error: null,
    };
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    result = { sql, ast: null, statements: [], statementCount: 0, error: message };
  }
  cache.set(sql, result);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return result;
}
