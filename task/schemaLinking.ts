/**
 * Schema linking: which tables and columns a question is about, and which literal values it mentions
 * that the database holds.
 *
 * 1. Words: the question's words, lower-cased and singularised (`projects` → `project`, `companies` →
 *    `company`); a table or column name is split on `_` the same way.
 * 2. Score of a table = 3 · (its name's words in the question) + 2 when all of them are + (its columns
 *    whose words occur in the question).
 *    Tables scoring > 0 are linked, best first, at most `maxTables` (default 4). Columns whose words occur
 *    in the question are linked too.
 * 3. Literal values: quoted strings ('…' or "…") and capitalised names not at the start of the question
 *    ("Acme Corp") are looked up with ILIKE over the text columns of the linked tables (one bounded query
 *    per literal and table, LIMIT 3, at most 3 literals × 4 tables) — so a prompt can use the value as the
 *    database spells it. A literal none of them holds is looked up in up to 8 other tables with text
 *    columns (`linkLiterals`), and a table that holds it is linked too ("books by Ursula Vance" links
 *    authors through the name its full_name column holds).
 *
 * @example
 * linkSchema("Show all active projects with budget over 100000", schema);
 * // { tables: ["projects"], columns: ["projects.budget"], literals: [] }
 */
import type { SchemaModel, SchemaTable } from "../sql/schemaModel.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";

export interface LinkedLiteral {
  /** As the question wrote it. */
  text: string;
  table: string;
  column: string;
  /** As the database holds it. */
  value: string;
}

export interface LinkedSchema {
  tables: string[];
  /** `table.column`. */
  columns: string[];
  literals: LinkedLiteral[];
}

const TEXT_TYPES = /^(text|character varying|character|varchar|char|citext)/;
const STOP_WORDS = new Set([
  "show",
  "list",
  "give",
  "find",
  "what",
  "which",
  "who",
  "how",
  "many",
  "much",
  "the",
  "all",
  "with",
  "for",
  "and",
  "per",
  "each",
  "of",
  "in",
  "on",
  "by",
  "a",
  "an",
  "is",
  "are",
  "to",
  "from",
  "over",
  "under",
  "than",
  "me",
  "their",
  "that",
  "have",
  "has",
]);

/** Lower-cased singular form of a word (a light stemmer: -ies → -y, -ses/-xes → drop es, -s → drop s). */
export function singular(word: string): string {
  const w = word.toLowerCase();
  if (w.length > 4 && w.endsWith("ies")) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(ses|xes|ches|shes)$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) return w.slice(0, -1);
  return w;
}

/** The question's content words, singularised. */
export function questionWords(question: string): Set<string> {
  return new Set(
    (question.toLowerCase().match(/[a-z][a-z0-9]*/g) ?? []).filter((w) => !STOP_WORDS.has(w)).map(singular),
  );
}

const nameWords = (name: string): string[] =>
  name
    .toLowerCase()
    .split(/_+/)
    .filter((w) => w.length > 1 && w !== "id")
    .map(singular);

function tableScore(table: SchemaTable, words: Set<string>): { score: number; columns: string[] } {
  const name = nameWords(table.name);
  const tableHits = name.filter((w) => words.has(w)).length;
  const columns = table.columns
    .filter((c) => nameWords(c.name).some((w) => words.has(w)))
    .map((c) => `${table.name}.${c.name}`);
  return { score: 3 * tableHits + (tableHits > 0 && tableHits === name.length ? 2 : 0) + columns.length, columns };
}

/** Quoted strings and capitalised names (not the first word) in a question, at most `max`. */
export function questionLiterals(question: string, max = 3): string[] {
  const found: string[] = [];
  for (const m of question.matchAll(/'([^']+)'|"([^"]+)"/g)) found.push((m[1] ?? m[2])!.trim());
  const unquoted = question.replace(/'[^']*'|"[^"]*"/g, " ");
  for (const m of unquoted.matchAll(/(?<=\S\s+)([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)*)/g)) found.push(m[1]!.trim());
  return [...new Set(found.filter((s) => s.length > 1))].slice(0, max);
}

/** Links tables and columns by name overlap (steps 1–2 of the file comment). */
export function linkSchema(question: string, schema: SchemaModel, maxTables = 4): LinkedSchema {
  const words = questionWords(question);
  const scored = schema.tables
    .map((t) => ({ name: t.name, ...tableScore(t, words) }))
    .filter((t) => t.score > 0)
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name))
    .slice(0, maxTables);
  return { tables: scored.map((t) => t.name), columns: scored.flatMap((t) => t.columns), literals: [] };
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Time limit of one literal lookup, ms. */
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * Looks the question's literals up in the linked tables' text columns (step 3). Bounded (each lookup
 * ≤ 2 s, none started after `deadline`, a `performance.now()` time); a failing lookup is skipped
 * (linking must never fail an ask).
 */
export async function lookupLiterals(
  question: string,
  schema: SchemaModel,
  tables: readonly string[],
  executor: Pick<SqlExecutor, "execute">,
  options: { signal?: AbortSignal; deadline?: number; literals?: readonly string[]; maxTables?: number } = {},
): Promise<LinkedLiteral[]> {
  const literals = options.literals ?? questionLiterals(question);
  const found: LinkedLiteral[] = [];
  for (const text of literals) {
    for (const name of tables.slice(0, options.maxTables ?? 4)) {
      const timeoutMs = Math.min(LOOKUP_TIMEOUT_MS, (options.deadline ?? Number.POSITIVE_INFINITY) - performance.now());
      if (timeoutMs < 1) return found.slice(0, 12); // out of time: the values found so far
      const table = schema.tables.find((t) => t.name === name);
      const columns = (table?.columns ?? []).filter((c) => TEXT_TYPES.test(c.type)).slice(0, 8);
      if (!table || columns.length === 0) continue;
      const from =
        table.schema === "public" ? quoteIdent(table.name) : `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
      const sql = `SELECT ${columns.map((c) => quoteIdent(c.name)).join(", ")} FROM ${from} WHERE ${columns.map((c) => `${quoteIdent(c.name)} ILIKE $1`).join(" OR ")} LIMIT 3`;
      try {
        const result = await executor.execute(sql, {
          params: [`%${text.replace(/[%_\\]/g, "\\$&")}%`],
          maxRows: 3,
          timeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        for (const row of result.rows) {
          row.forEach((value, j) => {
            if (
              typeof value === "string" &&
              value.toLowerCase().includes(text.toLowerCase()) &&
              !found.some((f) => f.value === value && f.column === columns[j]!.name)
            ) {
              found.push({ text, table: table.name, column: columns[j]!.name, value });
            }
          });
        }
      } catch {
        // A lookup is a hint for the prompt, never a reason to fail.
      }
    }
  }
  return found.slice(0, 12);
}

/**
 * Step 3 in full: the literals looked up in the linked tables, then those not found in up to 8 other tables
 * with text columns; tables where a value was found are added to `linked.tables`. Mutates and returns `linked`.
 */
export async function linkLiterals(
  question: string,
  schema: SchemaModel,
  linked: LinkedSchema,
  executor: Pick<SqlExecutor, "execute">,
  options: { signal?: AbortSignal; deadline?: number } = {},
): Promise<LinkedSchema> {
  linked.literals = await lookupLiterals(question, schema, linked.tables, executor, options);
  const missing = questionLiterals(question).filter((text) => !linked.literals.some((l) => l.text === text));
  if (missing.length === 0) return linked;
  const others = schema.tables
    .filter((t) => !linked.tables.includes(t.name) && t.columns.some((c) => TEXT_TYPES.test(c.type)))
    .map((t) => t.name);
  const more = await lookupLiterals(question, schema, others, executor, {
    ...options,
    literals: missing,
    maxTables: 8,
  });
  for (const l of more) if (!linked.tables.includes(l.table)) linked.tables.push(l.table);
  linked.literals = [...linked.literals, ...more].slice(0, 12);
  return linked;
}
