/**
 * Literal-swap augmentation for SFT: teaches a small model to COPY a filter value from the question into
 * the SQL instead of recalling one it memorised (dev/test reuse the train templates with other values —
 * data/DATASET.md "The demo dataset" — so copying is most of what the tiny model must generalise).
 *
 * For each item and each copy k = 1..copies:
 *   1. literals = the SQL's quoted strings ('…') and integers that also occur in the question as a whole
 *      word (case-sensitive; "top5" does not contain "5")
 *   2. each literal gets a substitute: an integer → random digits of the same length (no leading zero);
 *      a string with digits ('PRJ-1019', '2024-03-31') → the same with its digits redrawn; another string →
 *      any other string literal of the training SQL, drawn at random (never the same). Measured on the
 *      demo dev split (one seed each, same steps): this any-literal pool 47.8 % EX; a pool restricted to
 *      values of the same column 35.9 %; no augmentation 2–4 % — the nonsense swaps teach copying best.
 *   3. every occurrence is replaced in the question, the evidence and the SQL at once
 * Items without a copied literal are not duplicated. The PRNG is seeded (mulberry32), so the output is a
 * function of (items, copies, seed).
 *
 * @example
 * augmentLiterals([{ question: "customers in Sweden", evidence: "", sql: "SELECT name FROM customers WHERE country = 'Sweden'" }], { copies: 1, seed: 0, pool: ["Chile"] });
 * // → the item itself, then { question: "customers in Chile", sql: "… WHERE country = 'Chile'" }
 */
import type { QuestionSqlPair } from "./loadDataset.js";
import { mulberry32 } from "../runtime/mulberry32.js";
import { sqlStringLiteralsOf, withoutStringLiterals } from "../sql/sqlLiterals.js";

export interface AugmentLiteralsOptions {
  /** Augmented variants per item with copyable literals. */
  copies: number;
  seed: number;
  /** Substitute strings; default the distinct string literals of the items' SQL. */
  pool?: readonly string[];
  /**
   * Substitutes for one string literal (e.g. trainers/databaseValues.ts sameColumnSubstitutes: other values
   * of the same database column) — preferred over step 2's rules; when it returns none, step 2 applies.
   */
  substitutes?: (literal: string, sql: string) => readonly string[];
}

const INTEGER = /\b\d+\b/g;

/** `s` with the characters special in a RegExp escaped. */
export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const wordPattern = (s: string): RegExp => new RegExp(`(?<![\\w])${escapeRegExp(s)}(?![\\w])`, "g");

/** The distinct non-empty string literals ('…', '' unescaped) of the items' SQL, in order of first occurrence. */
export function sqlStringLiterals(items: readonly { sql: string }[]): string[] {
  return [...new Set(items.flatMap((i) => sqlStringLiteralsOf(i.sql)))].filter((s) => s.length > 0);
}

/** Literals of `sql` that the question contains as a whole word: [text, kind]. */
export function copiedLiterals(question: string, sql: string): { text: string; kind: "string" | "integer" }[] {
  const found = new Map<string, "string" | "integer">();
  for (const text of sqlStringLiteralsOf(sql)) {
    if (text.length > 0 && wordPattern(text).test(question)) found.set(text, "string");
  }
  for (const m of withoutStringLiterals(sql).matchAll(INTEGER))
    if (!found.has(m[0]) && wordPattern(m[0]).test(question)) found.set(m[0], "integer");
  return [...found].map(([text, kind]) => ({ text, kind }));
}

/** The items followed by their literal-swapped variants (see the file comment). */
export function augmentLiterals<T extends QuestionSqlPair>(items: readonly T[], options: AugmentLiteralsOptions): T[] {
  const random = mulberry32(options.seed);
  const pool = options.pool ?? sqlStringLiterals(items);
  const out: T[] = [...items];
  for (let copy = 0; copy < options.copies; copy++) {
    for (const item of items) {
      const literals = copiedLiterals(item.question, item.sql);
      if (literals.length === 0) continue;
      let { question, sql } = item;
      let evidence = item.evidence ?? "";
      for (const { text, kind } of literals) {
        const own = kind === "string" ? (options.substitutes?.(text, item.sql) ?? []) : [];
        const substitute =
          own.length > 0
            ? pickOther(own, text, random)
            : kind === "integer" || /\d/.test(text)
              ? redrawDigits(text, random)
              : pickOther(pool, text, random);
        if (substitute === null) continue;
        const inSql =
          kind === "string" ? new RegExp(`'${escapeRegExp(text.replace(/'/g, "''"))}'`, "g") : wordPattern(text);
        const sqlValue = kind === "string" ? `'${substitute.replace(/'/g, "''")}'` : substitute;
        question = question.replace(wordPattern(text), () => substitute);
        evidence = evidence.replace(wordPattern(text), () => substitute);
        sql = sql.replace(inSql, () => sqlValue);
      }
      out.push({ ...item, question, evidence, sql });
    }
  }
  return out;
}

/** Every digit redrawn (a leading digit of a number stays non-zero); other characters kept. */
function redrawDigits(text: string, random: () => number): string {
  return text.replace(/\d/g, (_, offset: number) => {
    const leading = (offset === 0 || !/\d/.test(text[offset - 1]!)) && /\d/.test(text[offset + 1] ?? "");
    return String(leading ? 1 + Math.floor(random() * 9) : Math.floor(random() * 10));
  });
}

function pickOther(pool: readonly string[], not: string, random: () => number): string | null {
  const others = pool.filter((s) => s !== not);
  return others.length === 0 ? null : others[Math.floor(random() * others.length)]!;
}
