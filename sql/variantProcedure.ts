/**
 * The seeded procedure that turns a copy of a database into one test-suite variant (docs/execution-match.md
 * "Test suite"): rows that differ, constraints kept. Pure SQL generation; sql/databaseVariants.ts runs it.
 *
 * Every draw is u(tag, row) = the first 32 bits of md5("<seed>:<index>:<tag>:" || row::text) / 2³² ∈ [0, 1):
 * a function of the seed, the variant index and the row's content, so a seed gives the same variant on any
 * copy of the same data (PGlite or PostgreSQL). Variant i (0-based) of table T, copied into schema S:
 *  1. Copy: `CREATE UNLOGGED TABLE S.T (LIKE T INCLUDING DEFAULTS, CONSTRAINTS, GENERATED, IDENTITY, INDEXES)`
 *     and its rows (primary keys, unique and CHECK constraints and NOT NULL hold in the copy; foreign keys
 *     are kept by construction below, not declared).
 *  2. Subset: delete the rows with u("keep") ≥ KEEP[i mod 3] (0.7, 0.9, 0.8), and in a table of ≥ 2 rows
 *     always at least the row of the largest draw (a count always changes somewhere).
 *  3. Foreign keys: a row whose parent was deleted is re-pointed to a surviving parent drawn by u (other key
 *     values within the domain: counts of children stay near the original); when that breaks a unique
 *     constraint, or no parent survives, the row is deleted; repeated until no row changes.
 *  4. By recipe i mod 3:
 *     0 — the subset alone (every row keeps its own values: row-level invariants the schema does not
 *         declare still hold);
 *     1 — duplicates: tables with one integer primary key get copies of the rows with u("dup") < 0.3 under
 *         new keys (max + n), unique text columns suffixed, numbers scaled by 0.5 + u and the row's dates
 *         all shifted by one draw of ±365 days (so `end_date >= start_date` still holds; empty golds can
 *         become non-empty, and sorts get no exact ties); if a CHECK refuses that, plain copies; if a
 *         unique constraint refuses those, none;
 *     2 — permutation: in each table, the values of each non-key column are permuted among the rows with
 *         u("perturb") < 0.3 (the column keeps its values, so its domain, NOT NULL and one-column CHECKs
 *         hold); a column whose permutation breaks a constraint (a unique column, a CHECK over two columns)
 *         is left as it was.
 *  5. ANALYZE (the planner sees the new sizes).
 * Each fallible step runs in its own PL/pgSQL block that swallows its error: a constraint the procedure
 * cannot satisfy leaves that step undone instead of failing the variant.
 */

/** One column of a table to vary (from the catalog: sql/databaseVariants.ts `readVariantTables`). */
export interface VariantColumn {
  name: string;
  /** format_type(): `integer`, `numeric(12,2)`, `text`, `date`… */
  type: string;
  /** pg_type.typcategory: N numeric, S string, D date/time, B boolean… */
  category: string;
  notNull: boolean;
  generated: boolean;
  identity: boolean;
}

export interface VariantConstraint {
  type: "p" | "u" | "f";
  columns: string[];
  /** Foreign keys: the referenced table and columns. */
  refSchema?: string;
  refTable?: string;
  refColumns?: string[];
}

export interface VariantTable {
  schema: string;
  name: string;
  columns: VariantColumn[];
  constraints: VariantConstraint[];
}

export interface VariantRecipe {
  /** The variant's number, 0-based: picks the recipe (index mod 3) and enters every draw. */
  index: number;
  seed: number;
  /** The schema the copies go into (created here). */
  schema: string;
}

const KEEP = [0.7, 0.9, 0.8] as const;
const DUP_FRACTION = 0.3;
const PERTURB_FRACTION = 0.3;

/** "name" quoted as an identifier. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The draw u(tag, alias) ∈ [0, 1) as SQL (see the file comment). */
function draw(recipe: VariantRecipe, tag: string, alias: string): string {
  const prefix = literal(`${recipe.seed}:${recipe.index}:${tag}:`);
  return `(('x' || substr(md5(${prefix} || ${alias}::text), 1, 8))::bit(32)::bigint / 4294967296.0)`;
}

/** A statement that may fail on a constraint: its own block, its error swallowed. */
const tryBlock = (body: string, fallback = "NULL;"): string =>
  `DO $glrl$ BEGIN ${body}; EXCEPTION WHEN others THEN ${fallback} END $glrl$;`;

const INTEGER_TYPES = new Set(["smallint", "integer", "bigint"]);

/**
 * The SQL (several statements, trusted: the admin path) that builds variant `recipe.index` of `tables` in
 * `recipe.schema`. Tables are read from their own schemas and written only into `recipe.schema`.
 * @example
 * const sql = variantSql(await readVariantTables(db), { index: 0, seed: 1, schema: "glrl_suite_1" });
 */
export function variantSql(tables: readonly VariantTable[], recipe: VariantRecipe): string {
  const target = (t: { name: string }): string => `${quoteIdent(recipe.schema)}.${quoteIdent(t.name)}`;
  const copied = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const out: string[] = [`CREATE SCHEMA ${quoteIdent(recipe.schema)};`];

  // 1. Copy.
  for (const t of tables) {
    const source = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
    const cols = t.columns.filter((c) => !c.generated).map((c) => quoteIdent(c.name));
    const overriding = t.columns.some((c) => c.identity) ? " OVERRIDING SYSTEM VALUE" : "";
    out.push(
      `CREATE UNLOGGED TABLE ${target(t)} (LIKE ${source} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING INDEXES);`,
      `INSERT INTO ${target(t)} (${cols.join(", ")})${overriding} SELECT ${cols.join(", ")} FROM ${source};`,
    );
  }

  // 2. Subset.
  const keep = KEEP[recipe.index % 3]!;
  for (const t of tables) {
    const T = target(t);
    const u = draw(recipe, "keep", "t");
    out.push(
      `DELETE FROM ${T} t WHERE ${u} >= ${keep} OR (t.ctid = (SELECT x.ctid FROM ${T} x ORDER BY ${draw(recipe, "keep", "x")} DESC LIMIT 1) AND (SELECT count(*) FROM ${T}) > 1);`,
    );
  }

  // 3. Foreign keys, to a fixed point.
  const fkSteps: string[] = [];
  for (const t of tables)
    for (const fk of t.constraints) {
      if (fk.type !== "f" || !fk.refTable || !fk.refColumns) continue;
      const parent = copied.get(`${fk.refSchema}.${fk.refTable}`);
      if (!parent) continue; // a parent outside the copy is not varied: its references still hold
      const T = target(t);
      const P = target(parent);
      const cols = fk.columns.map((c) => `c.${quoteIdent(c)}`);
      const refs = fk.refColumns.map((c) => `p.${quoteIdent(c)}`);
      const orphan = `${cols.map((c) => `${c} IS NOT NULL`).join(" AND ")} AND NOT EXISTS (SELECT 1 FROM ${P} p WHERE ${cols.map((c, k) => `${refs[k]} = ${c}`).join(" AND ")})`;
      // Set-based: the surviving parents numbered 0…P−1 by key, each orphan drawn a number (one join, not a
      // sort of the parents per orphan).
      const repoint = `WITH parents AS (SELECT ${refs.map((r, k) => `${r} AS k${k}`).join(", ")}, row_number() OVER (ORDER BY ${refs.join(", ")}) - 1 AS i FROM ${P} p), orphans AS (SELECT c.ctid AS tid, floor(${draw(recipe, `fk:${t.name}:${fk.columns.join(",")}`, "c")} * (SELECT count(*) FROM ${P}))::bigint AS i FROM ${T} c WHERE ${orphan}) UPDATE ${T} AS target SET (${fk.columns.map(quoteIdent).join(", ")}) = ROW(${refs.map((_, k) => `parents.k${k}`).join(", ")}) FROM orphans JOIN parents ON parents.i = orphans.i WHERE target.ctid = orphans.tid`;
      fkSteps.push(
        `BEGIN ${repoint}; GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n; EXCEPTION WHEN others THEN NULL; END;`,
        `DELETE FROM ${T} c WHERE ${orphan}; GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;`,
      );
    }
  if (fkSteps.length > 0)
    out.push(
      `DO $glrl$ DECLARE n bigint; changed bigint; BEGIN FOR pass IN 1..50 LOOP changed := 0; ${fkSteps.join(" ")} EXIT WHEN changed = 0; END LOOP; END $glrl$;`,
    );

  // 4. The recipe's own change.
  if (recipe.index % 3 === 1) for (const t of tables) out.push(...duplicateRows(t, target(t), recipe));
  if (recipe.index % 3 === 2) for (const t of tables) out.push(...permuteColumns(t, target(t), recipe));

  // 5. Planner statistics.
  for (const t of tables) out.push(`ANALYZE ${target(t)};`);
  return out.join("\n");
}

/** Recipe 1: copies of some rows under new integer keys (see the file comment, step 4). */
function duplicateRows(t: VariantTable, T: string, recipe: VariantRecipe): string[] {
  const pk = t.constraints.find((c) => c.type === "p");
  const key = pk?.columns.length === 1 ? t.columns.find((c) => c.name === pk.columns[0]) : undefined;
  if (!key || !INTEGER_TYPES.has(key.type)) return [];
  const foreign = new Set(t.constraints.filter((c) => c.type === "f").flatMap((c) => c.columns));
  const unique = new Set(t.constraints.filter((c) => c.type === "u").flatMap((c) => c.columns));
  const insertable = t.columns.filter((c) => !c.generated);
  const copyOf = (perturbed: boolean) => {
    const values = insertable.map((c) => {
      const col = `t.${quoteIdent(c.name)}`;
      if (c.name === key.name)
        return `(SELECT coalesce(max(${quoteIdent(key.name)}), 0) FROM ${T}) + row_number() OVER (ORDER BY ${draw(recipe, "dup-order", "t")})`;
      if (unique.has(c.name) && c.category === "S")
        return `${col} || '~' || substr(md5(${literal(`${recipe.seed}:${recipe.index}:`)} || t::text), 1, 6)`;
      if (!perturbed || foreign.has(c.name) || unique.has(c.name)) return col;
      if (c.category === "N") return `(${col} * (0.5 + ${draw(recipe, `scale:${c.name}`, "t")}))::${c.type}`;
      if (c.type === "date") return `(${col} + (floor(${draw(recipe, "shift", "t")} * 731) - 365)::int)`;
      if (c.type.startsWith("timestamp"))
        return `(${col} + make_interval(days => (floor(${draw(recipe, "shift", "t")} * 731) - 365)::int))::${c.type}`;
      return col;
    });
    const overriding = t.columns.some((c) => c.identity) ? " OVERRIDING SYSTEM VALUE" : "";
    return `INSERT INTO ${T} (${insertable.map((c) => quoteIdent(c.name)).join(", ")})${overriding} SELECT ${values.join(", ")} FROM ${T} t WHERE ${draw(recipe, "dup", "t")} < ${DUP_FRACTION}`;
  };
  return [
    `DO $glrl$ BEGIN ${copyOf(true)}; EXCEPTION WHEN others THEN BEGIN ${copyOf(false)}; EXCEPTION WHEN others THEN NULL; END; END $glrl$;`,
  ];
}

/** Recipe 2: each non-key column's values permuted among a drawn set of rows (see the file comment, step 4). */
function permuteColumns(t: VariantTable, T: string, recipe: VariantRecipe): string[] {
  const keys = new Set(t.constraints.filter((c) => c.type !== "u").flatMap((c) => c.columns));
  return t.columns
    .filter((c) => !keys.has(c.name) && !c.generated && !c.identity)
    .map((c) => {
      const col = quoteIdent(c.name);
      const chosen = `SELECT t.ctid AS tid, t.${col} AS v, row_number() OVER (ORDER BY ${draw(recipe, `from:${c.name}`, "t")}) AS a, row_number() OVER (ORDER BY ${draw(recipe, `to:${c.name}`, "t")}) AS b FROM ${T} t WHERE ${draw(recipe, "perturb", "t")} < ${PERTURB_FRACTION}`;
      return tryBlock(
        `WITH chosen AS (${chosen}), moved AS (SELECT x.tid, y.v FROM chosen x JOIN chosen y ON x.a = y.b) UPDATE ${T} AS target SET ${col} = moved.v FROM moved WHERE target.ctid = moved.tid`,
      );
    });
}
