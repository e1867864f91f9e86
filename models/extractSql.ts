/**
 * Pulls the SQL and the reasoning out of a model's answer, robust to a model's mess.
 *
 * SQL, first rule that yields something:
 *   1. the LAST closed ```sql fenced block (models often draft, then correct); failing that the last
 *      closed ``` block without a language whose body looks like SQL;
 *   2. an unclosed ``` / ```sql fence: everything after it;
 *   3. no fence: the last statement that starts with SELECT / WITH (at a line start, or in capitals
 *      anywhere) up to a `;` outside quotes (`statementEnd`) or the end, cut before a blank line (trailing prose); a WITH … SELECT in
 *      the same paragraph counts as one statement;
 * then trimmed, one trailing `;` removed. null when nothing looks like SQL.
 * Reasoning: the body of <reasoning>…</reasoning> (or <think>…</think>; an unclosed tag runs to the
 * first fence), else the text before the first fence; trimmed, null when empty.
 */

export interface ExtractedAnswer {
  sql: string | null;
  reasoning: string | null;
}

const SQL_START = /\b(with|select)\b/i;

function clean(sql: string): string | null {
  const s = sql.trim().replace(/;\s*$/, "").trim();
  return s.length > 0 ? s : null;
}

/**
 * Index of the first `;` that ends a statement — outside '…' strings (with '' inside) and "…" identifiers — or −1.
 * A model's `WHERE country = '); Partners'` keeps its literal (a plain indexOf cut it there).
 */
function statementEnd(text: string): number {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === quote) {
        if (text[i + 1] === quote)
          i += 1; // '' or "" inside: an escaped quote
        else quote = null;
      }
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ";") return i;
  }
  return -1;
}

function lastStatement(text: string): string | null {
  // Statement starts: SELECT/WITH at a line start (any case) or in capitals anywhere — not "we select…".
  const starts = [...text.matchAll(/(^|\n[ \t]*|[^\w\n])(with|select)\b/gi)].filter(
    (m) => m[1] === "" || m[1]!.startsWith("\n") || m[2] === m[2]!.toUpperCase(),
  );
  for (let k = starts.length - 1; k >= 0; k--) {
    const m = starts[k]!;
    const from = m.index! + m[1]!.length;
    // Prefer the earliest start of the final statement: walk back over starts inside the same statement.
    let begin = from;
    for (let j = k - 1; j >= 0; j--) {
      const prev = starts[j]!;
      const prevFrom = prev.index! + prev[1]!.length;
      const between = text.slice(prevFrom, begin);
      if (statementEnd(between) >= 0 || /\n\s*\n/.test(between)) break;
      begin = prevFrom;
    }
    let body = text.slice(begin);
    const semi = statementEnd(body);
    if (semi >= 0) body = body.slice(0, semi);
    const blank = body.search(/\n\s*\n/);
    if (blank >= 0) body = body.slice(0, blank);
    const sql = clean(body);
    if (sql) return sql;
  }
  return null;
}

/**
 * @example
 * extractSql("Count them.\n```sql\nSELECT count(*) FROM account;\n```\nDone.");
 * // { sql: "SELECT count(*) FROM account", reasoning: "Count them." }
 */
export function extractSql(answer: string): ExtractedAnswer {
  return { sql: extractSqlText(answer), reasoning: extractReasoning(answer) };
}

function extractSqlText(answer: string): string | null {
  const blocks = [...answer.matchAll(/```[ \t]*([A-Za-z]*)[^\n]*\n([\s\S]*?)```/g)];
  const sqlBlocks = blocks.filter((b) => /^(sql|postgresql|postgres|pgsql)$/i.test(b[1]!));
  for (const b of [...sqlBlocks].reverse()) {
    const s = clean(b[2]!);
    if (s) return s;
  }
  for (const b of [...blocks].reverse()) {
    if (b[1] === "" && SQL_START.test(b[2]!)) {
      const s = clean(b[2]!);
      if (s) return s;
    }
  }
  // An unclosed fence: after removing the closed blocks, a lone ``` opens the SQL.
  const rest = answer.replace(/```[^\n]*\n[\s\S]*?```/g, "");
  const open = rest.match(/```[ \t]*(?:sql|postgresql)?[^\n]*\n?([\s\S]*)$/i);
  if (open) {
    const s = lastStatement(open[1]!) ?? clean(open[1]!);
    if (s && SQL_START.test(s)) return s;
  }
  return lastStatement(answer.replace(/<(reasoning|think)>[\s\S]*?<\/\1>/gi, ""));
}

function extractReasoning(answer: string): string | null {
  const tagged = answer.match(/<(reasoning|think)>([\s\S]*?)(<\/\1>|```|$)/i);
  const text = tagged ? tagged[2]! : answer.includes("```") ? answer.slice(0, answer.indexOf("```")) : "";
  const r = text.trim();
  return r.length > 0 ? r : null;
}
