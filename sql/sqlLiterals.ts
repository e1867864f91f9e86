/**
 * The string literals of a SQL text, found lexically ('…' with '' as an escaped quote) — no parse, so it
 * also reads SQL that does not parse (a model's broken candidate). Used by literal-swap augmentation,
 * the value-linking reward and the pass@k bench.
 *
 * @example
 * sqlStringLiteralsOf("SELECT 1 WHERE name = 'O''Brien' AND code = 'PRJ-1'"); // ["O'Brien", "PRJ-1"]
 * withoutStringLiterals("SELECT 'a1', 2"); // "SELECT  , 2"
 */

const STRING_LITERAL = /'((?:[^']|'')*)'/g;

/** The string literals of `sql`, unescaped, in order (repeats and empty strings kept). */
export function sqlStringLiteralsOf(sql: string): string[] {
  return [...sql.matchAll(STRING_LITERAL)].map((m) => m[1]!.replace(/''/g, "'"));
}

/** `sql` with every string literal replaced by a space (to scan what is outside them). */
export function withoutStringLiterals(sql: string): string {
  return sql.replace(STRING_LITERAL, " ");
}
