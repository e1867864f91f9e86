/**
 * safetyPolicy — default-deny, token-level read-only check of a SQL text (no parser needed, so it
 * also holds where pgsql-ast-parser fails).
 *
 * Algorithm: 1. tokenize: drop `--` and nested `/* *\/` comments; single-quoted strings (also E'',
 * doubled quotes, backslash escapes in E'') and `$tag$…$tag$` bodies become one STRING token;
 * double-quoted identifiers become one IDENT token (never a keyword); words are lower-cased.
 * 2. statements = split on `;` outside strings/comments; more than one non-empty → "multi_statement".
 * 3. the first word must be select / with / values or the text must start with `(` → else "not_read_only".
 * 4. any word in FORBIDDEN_KEYWORDS → "forbidden_keyword"; `for update|share|no key|key share` →
 *    "locking_clause"; `select … into` outside a sub-clause → "forbidden_keyword".
 * 5. a word followed by `(` is a function call: denied when it matches a DENIED_FUNCTION pattern and is
 *    not in `policy.allowFunctions` → "forbidden_function".
 * 6. a word starting with pg_ / in the catalog schemas, used as a name → "catalog_access" unless
 *    `policy.allowCatalog`.
 * Every violation is reported (code, message, hint); `safe` is true when there is none.
 */

export interface SafetyPolicy {
  /** Extra function names (lower-case) users allow despite DENIED_FUNCTIONS. */
  readonly allowFunctions?: readonly string[];
  /** Allow pg_catalog / information_schema / pg_* relations. Default false. */
  readonly allowCatalog?: boolean;
}

export interface SafetyViolation {
  readonly code:
    | "multi_statement"
    | "not_read_only"
    | "forbidden_keyword"
    | "locking_clause"
    | "forbidden_function"
    | "catalog_access"
    | "empty";
  readonly message: string;
  readonly hint: string;
}

export interface SafetyVerdict {
  readonly safe: boolean;
  readonly violations: readonly SafetyViolation[];
}

type Token = { kind: "word" | "string" | "ident" | "punct" | "number"; text: string };

const FORBIDDEN_KEYWORDS = new Set([
  "insert",
  "update",
  "delete",
  "merge",
  "upsert",
  "drop",
  "create",
  "alter",
  "truncate",
  "grant",
  "revoke",
  "copy",
  "do",
  "call",
  "set",
  "reset",
  "begin",
  "commit",
  "rollback",
  "savepoint",
  "release",
  "abort",
  "start",
  "end",
  "explain",
  "prepare",
  "execute",
  "deallocate",
  "listen",
  "notify",
  "unlisten",
  "vacuum",
  "analyze",
  "analyse",
  "lock",
  "refresh",
  "cluster",
  "reindex",
  "discard",
  "load",
  "comment",
  "security",
  "checkpoint",
  "import",
  "reassign",
  "declare",
  "fetch",
  "move",
  "close",
]);

const DENIED_FUNCTIONS: readonly RegExp[] = [
  /^pg_/,
  /^lo_/,
  /^dblink/,
  /^set_config$/,
  /^current_setting$/,
  /^nextval$/,
  /^setval$/,
  /^currval$/,
  /^lastval$/,
  /^txid_/,
  /^query_to_xml/,
  /^table_to_xml/,
  /^database_to_xml/,
  /^cursor_to_xml/,
  /^xpath/,
  /^has_.*_privilege$/,
  /^version$/,
  /^inet_server_/,
  /^current_user$/,
  /^session_user$/,
  /^generate_series$/,
  /^binary_upgrade_/,
  /^brin_/,
  /^gin_clean/,
  /^loread$/,
  /^lowrite$/,
  /^copy_/,
];

const CATALOG_SCHEMAS = new Set(["pg_catalog", "information_schema", "pg_toast"]);

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (sql[i] === "*" && sql[i + 1] === "/") {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (c === "'" || ((c === "e" || c === "E") && sql[i + 1] === "'")) {
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      while (i < n) {
        if (escapes && sql[i] === "\\") {
          i += 2;
          continue;
        }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      tokens.push({ kind: "string", text: "" });
      continue;
    }
    if (c === "$") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? n : end + m[0].length;
        tokens.push({ kind: "string", text: "" });
        continue;
      }
    }
    if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < n) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') {
            text += '"';
            j += 2;
            continue;
          }
          j++;
          break;
        }
        text += sql[j];
        j++;
      }
      i = j;
      tokens.push({ kind: "ident", text: text.toLowerCase() });
      continue;
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      tokens.push({ kind: "word", text: sql.slice(i, j).toLowerCase() });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < n && /[0-9.eE]/.test(sql[j]!)) j++;
      tokens.push({ kind: "number", text: sql.slice(i, j) });
      i = j;
      continue;
    }
    tokens.push({ kind: "punct", text: c });
    i++;
  }
  return tokens;
}

/** Check `sql` against the read-only policy. Never throws. */
export function checkSafety(sql: string, policy: SafetyPolicy = {}): SafetyVerdict {
  const violations: SafetyViolation[] = [];
  const add = (code: SafetyViolation["code"], message: string, hint: string): void => {
    if (!violations.some((v) => v.code === code && v.message === message)) violations.push({ code, message, hint });
  };
  const tokens = tokenize(sql);
  const statements: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === "punct" && t.text === ";") statements.push([]);
    else statements[statements.length - 1]!.push(t);
  }
  const nonEmpty = statements.filter((s) => s.length > 0);
  if (nonEmpty.length === 0) {
    add("empty", "the SQL text holds no statement", "write one SELECT statement");
    return { safe: false, violations };
  }
  if (nonEmpty.length > 1)
    add(
      "multi_statement",
      `the SQL text holds ${nonEmpty.length} statements`,
      "send exactly one SELECT statement, without ';' separators",
    );
  const allowed = new Set((policy.allowFunctions ?? []).map((f) => f.toLowerCase()));
  for (const stmt of nonEmpty) {
    const first = stmt[0]!;
    if (
      !(first.kind === "punct" && first.text === "(") &&
      !(first.kind === "word" && ["select", "with", "values", "table"].includes(first.text))
    ) {
      add(
        "not_read_only",
        `statement starts with '${first.text}', not SELECT/WITH/VALUES`,
        "only read-only queries (SELECT, WITH … SELECT, VALUES) are allowed",
      );
    }
    for (let k = 0; k < stmt.length; k++) {
      const t = stmt[k]!;
      if (t.kind !== "word") continue;
      const next = stmt[k + 1];
      const prev = stmt[k - 1];
      const qualified = prev?.kind === "punct" && prev.text === ".";
      // `FETCH FIRST|NEXT n ROWS ONLY` is the standard spelling of LIMIT, not the cursor command.
      const fetchClause =
        t.text === "fetch" && k > 0 && next?.kind === "word" && (next.text === "first" || next.text === "next");
      if (!qualified && FORBIDDEN_KEYWORDS.has(t.text) && !(t.text === "end" && k > 0) && !fetchClause) {
        // `end` closes CASE inside a query; only a leading END (transaction control) is caught by rule 3.
        add(
          "forbidden_keyword",
          `forbidden keyword '${t.text.toUpperCase()}'`,
          "the query path is read-only: no writes, DDL, utility or session commands",
        );
      }
      if (t.text === "into" && !qualified)
        add("forbidden_keyword", "SELECT … INTO creates a table", "remove INTO; return the rows instead");
      if (t.text === "for" && next?.kind === "word" && ["update", "share", "no", "key"].includes(next.text)) {
        add(
          "locking_clause",
          `locking clause FOR ${next.text.toUpperCase()}`,
          "remove the FOR UPDATE/SHARE clause: queries must not take row locks",
        );
      }
      if (
        next?.kind === "punct" &&
        next.text === "(" &&
        !allowed.has(t.text) &&
        DENIED_FUNCTIONS.some((r) => r.test(t.text))
      ) {
        add(
          "forbidden_function",
          `function ${t.text}() is not allowed`,
          `allow it explicitly in the safety policy (allowFunctions) if it is safe for your database`,
        );
      }
      if (
        !policy.allowCatalog &&
        (CATALOG_SCHEMAS.has(t.text) || (t.text.startsWith("pg_") && !(next?.kind === "punct" && next.text === "(")))
      ) {
        add(
          "catalog_access",
          `system catalog '${t.text}' is not allowed`,
          "query the application's tables; set allowCatalog in the policy to permit catalog access",
        );
      }
    }
    for (const t of stmt) {
      if (t.kind === "ident" && !policy.allowCatalog && (CATALOG_SCHEMAS.has(t.text) || t.text.startsWith("pg_"))) {
        add(
          "catalog_access",
          `system catalog '${t.text}' is not allowed`,
          "set allowCatalog in the policy to permit catalog access",
        );
      }
    }
  }
  return { safe: violations.length === 0, violations };
}
