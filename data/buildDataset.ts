/**
 * buildDataset — expand data/questionTemplates.ts into the demo dataset's JSONL splits.
 * Run: `npx tsx data/buildDataset.ts` (rewrites data/dataset/{train,dev,test,test_unseen}.jsonl).
 *
 * Algorithm (deterministic: one mulberry32 PRNG, seed DATASET_SEED, consumed in template order):
 * 1. Open an in-memory PGlite, run data/schema.sql and seedDemoDatabase(); read each slot pool
 *    (customer names, project codes, departments, account names, years…) from the rows, so literal
 *    values in questions exist in the database. Fixed pools (thresholds, top-N) are constants.
 * 2. For each template, intents = its pinned slot values first, then random draws from the pools
 *    (at most INTENTS_PER_TEMPLATE, 1 for a slot-less template, at most MAX_DRAWS tries). A draw is
 *    kept only when its filled gold SQL returns ≥ 1 row with a non-NULL cell (0 rows when the
 *    template expects an empty answer), so every question has a real answer, and when an ORDER BY on
 *    one column has no ties (hasOrderTie), so the gold row order and any LIMIT cut are well defined.
 * 3. Intent j of a template with P phrasings uses phrasings (j·Q + q) mod P, q < Q (Q =
 *    PHRASINGS_PER_INTENT; a slot-less template uses all its phrasings) — every phrasing is used.
 * 4. Splits, by intent (paraphrases never straddle splits): templates marked `unseen` go wholly to
 *    test_unseen. For the rest, per difficulty (so each split keeps the overall mix): each template's
 *    first intent goes to train (every seen template is learnable); its second intent to whichever of
 *    test / dev is relatively further below its target (TEST_SHARE / DEV_SHARE of the difficulty's
 *    pairs), so evaluation covers many templates; the remaining intents, in PRNG-shuffled order,
 *    fill test then dev up to their targets, and the rest go to train.
 * 5. Items are written one JSON object per line, keys in a fixed order, sorted by id within a split.
 */
import { PGlite } from "@electric-sql/pglite";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSql } from "../sql/parseSql.js";
import {
  DATASET_SPLITS,
  DEMO_DATASET_DIR,
  type DatasetItem,
  type DatasetSplit,
  type Difficulty,
} from "./loadDataset.js";
import { questionTemplates, type QuestionTemplate, type SlotPool } from "./questionTemplates.js";
import { seedDemoDatabase } from "./seedDemoDatabase.js";
import { mulberry32 } from "../runtime/mulberry32.js";

export const DATASET_SEED = 20251124;
export const INTENTS_PER_TEMPLATE = 5;
export const PHRASINGS_PER_INTENT = 2;
const MAX_DRAWS = 60;
const TEST_SHARE = 0.2;
const DEV_SHARE = 0.15;

/** One slot value: `value` goes into SQL/evidence, `text` into questions; extra fields for `{slot.key}`. */
export type SlotValue = Record<string, string> & { value: string };

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const fixed = (values: (string | number)[]): SlotValue[] => values.map((v) => ({ value: String(v) }));
const words = (values: string[]): SlotValue[] => values.map((v) => ({ value: v, text: v.replaceAll("_", " ") }));

/** Reads every slot pool from the seeded database (or the fixed lists). */
export async function readSlotPools(db: PGlite): Promise<Record<SlotPool, SlotValue[]>> {
  const column = async (sql: string): Promise<SlotValue[]> =>
    (await db.query<Record<string, unknown>>(sql, [], { rowMode: "object" })).rows.map((r) => ({
      value: String(Object.values(r)[0]),
    }));
  const people = async (sql: string): Promise<SlotValue[]> =>
    (await db.query<{ first_name: string; last_name: string }>(sql)).rows.map((r) => ({
      value: `${r.first_name} ${r.last_name}`,
      first: r.first_name,
      last: r.last_name,
    }));
  const uniqueName = "(SELECT first_name, last_name FROM employees GROUP BY first_name, last_name HAVING COUNT(*) = 1)";
  return {
    projectStatus: words(["planned", "active", "on_hold", "completed", "cancelled"]),
    budgetThreshold: fixed([50000, 100000, 250000, 500000, 1000000]),
    customer: await column(
      "SELECT DISTINCT c.name FROM customers c JOIN invoices i ON i.customer_id = c.customer_id ORDER BY 1",
    ),
    country: await column("SELECT DISTINCT country FROM customers ORDER BY 1"),
    industry: await column("SELECT DISTINCT industry FROM customers ORDER BY 1"),
    project: await column(
      "SELECT DISTINCT p.project_code FROM projects p JOIN timesheets t ON t.project_id = p.project_id WHERE p.project_id IN (SELECT project_id FROM journal_lines) ORDER BY 1",
    ),
    department: await column("SELECT DISTINCT name FROM departments ORDER BY 1"),
    company: await column("SELECT name FROM companies ORDER BY company_id"),
    year: await column("SELECT DISTINCT fiscal_year FROM fiscal_periods ORDER BY 1"),
    hireYear: await column("SELECT DISTINCT EXTRACT(YEAR FROM hire_date)::int FROM employees ORDER BY 1"),
    month: MONTHS.map((name, i) => ({ value: String(i + 1), name, short: name.slice(0, 3) })),
    expenseAccount: await column(
      "SELECT DISTINCT a.name FROM gl_accounts a JOIN journal_lines jl ON jl.account_id = a.account_id JOIN journal_entries je ON je.entry_id = jl.entry_id WHERE je.posted AND a.account_type = 'expense' ORDER BY 1",
    ),
    account: await column(
      "SELECT DISTINCT a.name FROM gl_accounts a JOIN journal_lines jl ON jl.account_id = a.account_id JOIN journal_entries je ON je.entry_id = jl.entry_id WHERE je.posted ORDER BY 1",
    ),
    accountType: words(["asset", "liability", "equity", "revenue", "expense"]),
    invoiceStatus: words(["draft", "sent", "paid", "overdue", "void"]),
    billStatus: words(["open", "paid", "overdue", "void"]),
    employeeStatus: words(["active", "on_leave", "terminated"]),
    title: await column("SELECT DISTINCT title FROM employees ORDER BY 1"),
    vendor: await column(
      "SELECT DISTINCT v.name FROM vendors v JOIN vendor_bills vb ON vb.vendor_id = v.vendor_id ORDER BY 1",
    ),
    vendorCategory: await column("SELECT DISTINCT category FROM vendors ORDER BY 1"),
    topN: fixed([3, 5, 10]),
    minProjects: fixed([1, 2, 3]),
    creditThreshold: fixed([100000, 250000, 500000, 1000000]),
    billThreshold: fixed([1000, 5000, 10000, 50000]),
    salaryThreshold: fixed([70000, 90000, 110000, 130000]),
    spendPct: fixed([50, 80, 100]),
    paymentMethod: words(["bank_transfer", "card", "check", "cash"]),
    entrySource: fixed(["manual", "ap", "ar", "payroll"]),
    days: fixed([30, 60, 90, 180]),
    tenureYears: fixed([3, 5, 8, 10]),
    manager: await people(
      `SELECT DISTINCT m.first_name, m.last_name FROM employees e JOIN employees m ON m.employee_id = e.manager_id WHERE (m.first_name, m.last_name) IN ${uniqueName} ORDER BY 1, 2`,
    ),
    employee: await people(
      `SELECT DISTINCT e.first_name, e.last_name FROM employees e JOIN timesheets t ON t.employee_id = e.employee_id WHERE (e.first_name, e.last_name) IN ${uniqueName} ORDER BY 1, 2`,
    ),
  };
}

/** Replaces `{slot}` / `{slot.key}`: `field` picks the default field ("value" for SQL, "text" for questions). */
export function fillPlaceholders(
  pattern: string,
  values: Record<string, SlotValue>,
  field: "value" | "text",
  quoteSql = false,
): string {
  return pattern.replace(/\{(\w+)(?:\.(\w+))?\}/g, (whole, slot: string, key: string | undefined) => {
    const v = values[slot];
    if (v === undefined) throw new Error(`placeholder ${whole} names no slot`);
    const raw = key !== undefined ? v[key] : field === "text" ? (v.text ?? v.value) : v.value;
    if (raw === undefined) throw new Error(`placeholder ${whole}: slot value has no field '${key ?? field}'`);
    return quoteSql ? raw.replaceAll("'", "''") : raw;
  });
}

/** True when the statement's outermost level ends with ORDER BY (row order is part of the answer). */
export function isOrdered(sql: string): boolean {
  const ast = parseSql(sql).ast as { type?: string; orderBy?: unknown[]; in?: { orderBy?: unknown[] } } | null;
  if (ast === null) return false;
  if (ast.type === "with") return (ast.in?.orderBy?.length ?? 0) > 0;
  return (ast.orderBy?.length ?? 0) > 0;
}

/**
 * True when a query ordered by one output column (`… ORDER BY col [DESC] [LIMIT n]`) has two adjacent
 * rows with the same key — within the answer or at the LIMIT cut — so its gold row order (or the rows a
 * LIMIT keeps) would be arbitrary. Such slot values are not used.
 */
export async function hasOrderTie(db: PGlite, sql: string): Promise<boolean> {
  const m = /ORDER BY (\w+)(?: DESC)?(?: LIMIT (\d+))?$/.exec(sql);
  if (m === null) return false;
  const probe = m[2] === undefined ? sql : `${sql.slice(0, sql.length - m[2].length)}${Number(m[2]) + 1}`;
  const rows = (await db.query<Record<string, unknown>>(probe)).rows;
  const key = (row: Record<string, unknown>): string => String(row[m[1]!]);
  return rows.some((row, i) => i > 0 && key(row) === key(rows[i - 1]!));
}

interface Intent {
  template: QuestionTemplate;
  index: number;
  values: Record<string, SlotValue>;
  sql: string;
  items: DatasetItem[];
}

/** Expands every template into intents with their phrased items (steps 1–3). */
async function expandTemplates(db: PGlite, rand: () => number): Promise<Intent[]> {
  const pools = await readSlotPools(db);
  const intents: Intent[] = [];
  for (const template of questionTemplates) {
    const slots = Object.entries(template.slots);
    const want = slots.length === 0 ? 1 : INTENTS_PER_TEMPLATE;
    const seen = new Set<string>();
    const chosen: Record<string, SlotValue>[] = [];
    const candidates: (() => Record<string, SlotValue>)[] = [];
    for (const pin of template.pinned ?? []) {
      candidates.push(() =>
        Object.fromEntries(slots.map(([slot, pool]) => [slot, pools[pool].find((v) => v.value === pin[slot])!])),
      );
    }
    for (let d = 0; d < MAX_DRAWS; d++) {
      candidates.push(() =>
        Object.fromEntries(slots.map(([slot, pool]) => [slot, pools[pool][Math.floor(rand() * pools[pool].length)]!])),
      );
    }
    for (const draw of candidates) {
      if (chosen.length >= want) break;
      const values = draw();
      const key = JSON.stringify(values);
      if (seen.has(key)) continue;
      seen.add(key);
      const sql = fillPlaceholders(template.sql, values, "value", true);
      const rows = (await db.query<unknown[]>(sql, [], { rowMode: "array" })).rows;
      // an aggregate over no rows still returns one row of NULLs: that is no answer either
      const answered = rows.some((row) => row.some((cell) => cell !== null));
      if (template.expectEmpty === true ? rows.length === 0 : answered && !(await hasOrderTie(db, sql)))
        chosen.push(values);
    }
    if (chosen.length === 0) throw new Error(`template ${template.id}: no slot values give an answer`);
    chosen.forEach((values, index) => {
      const sql = fillPlaceholders(template.sql, values, "value", true);
      const evidence = fillPlaceholders(template.evidence, values, "value");
      const q =
        slots.length === 0 ? template.phrasings.length : Math.min(PHRASINGS_PER_INTENT, template.phrasings.length);
      const used = new Set<number>();
      for (let k = 0; k < q; k++) used.add((index * q + k) % template.phrasings.length);
      const ordered = isOrdered(sql);
      const items = [...used].map(
        (p): DatasetItem => ({
          id: `${template.id}.${index}.${p}`,
          question: fillPlaceholders(template.phrasings[p]!, values, "text"),
          evidence,
          sql,
          difficulty: template.difficulty,
          db: "demo",
          tables: template.tables,
          intent: `${template.id}.${index}`,
          template: template.id,
          ordered,
          ...(template.expectEmpty === true ? { expect_empty: true } : {}),
        }),
      );
      intents.push({ template, index, values, sql, items });
    });
  }
  return intents;
}

/** Assigns intents to splits (step 4). */
function assignSplits(intents: Intent[], rand: () => number): Map<Intent, DatasetSplit> {
  const split = new Map<Intent, DatasetSplit>();
  for (const intent of intents) {
    if (intent.template.unseen === true) split.set(intent, "test_unseen");
    else if (intent.index === 0) split.set(intent, "train");
  }
  for (const difficulty of ["simple", "moderate", "challenging"] as Difficulty[]) {
    const bucket = intents.filter((i) => i.template.unseen !== true && i.template.difficulty === difficulty);
    const total = bucket.reduce((n, i) => n + i.items.length, 0);
    const target = { test: total * TEST_SHARE, dev: total * DEV_SHARE };
    const taken = { test: 0, dev: 0 };
    const take = (intent: Intent, s: DatasetSplit): void => {
      if (s === "test" || s === "dev") taken[s] += intent.items.length;
      split.set(intent, s);
    };
    // (a) each template's second intent goes to the evaluation split furthest below its target, so
    //     dev and test cover as many templates as they can
    for (const intent of bucket.filter((i) => i.index === 1)) {
      const s = taken.test / target.test <= taken.dev / target.dev ? "test" : "dev";
      take(intent, taken[s] + intent.items.length <= target[s] + 1 ? s : "train");
    }
    // (b) the rest, shuffled: test, then dev, up to their targets; then train
    const rest = bucket.filter((i) => !split.has(i));
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    }
    for (const intent of rest) {
      take(
        intent,
        taken.test + intent.items.length <= target.test + 1
          ? "test"
          : taken.dev + intent.items.length <= target.dev + 1
            ? "dev"
            : "train",
      );
    }
  }
  return split;
}

/** Builds the dataset: every item with its `split` set. */
export async function buildDataset(): Promise<DatasetItem[]> {
  const db = new PGlite();
  try {
    await db.exec(readFileSync(fileURLToPath(new URL("./schema.sql", import.meta.url)), "utf8"));
    await db.exec(seedDemoDatabase());
    const rand = mulberry32(DATASET_SEED);
    const intents = await expandTemplates(db, rand);
    const splits = assignSplits(intents, rand);
    return intents.flatMap((intent) => intent.items.map((item) => ({ ...item, split: splits.get(intent)! })));
  } finally {
    await db.close();
  }
}

const KEY_ORDER = [
  "id",
  "question",
  "evidence",
  "sql",
  "difficulty",
  "db",
  "tables",
  "intent",
  "template",
  "split",
  "ordered",
  "expect_empty",
];

/** Writes `<dir>/<split>.jsonl` for every split. */
export function writeDatasetFiles(items: DatasetItem[], dir: string = DEMO_DATASET_DIR): Record<DatasetSplit, number> {
  mkdirSync(dir, { recursive: true });
  const counts = {} as Record<DatasetSplit, number>;
  for (const split of DATASET_SPLITS) {
    const rows = items.filter((i) => i.split === split).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const text = `${rows.map((row) => JSON.stringify(row, KEY_ORDER)).join("\n")}\n`;
    const path = join(dir, `${split}.jsonl`);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    counts[split] = rows.length;
  }
  return counts;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const items = await buildDataset();
  const counts = writeDatasetFiles(items);
  const byDifficulty = Object.fromEntries(
    ["simple", "moderate", "challenging"].map((d) => [d, items.filter((i) => i.difficulty === d).length]),
  );
  process.stdout.write(
    `${JSON.stringify({ total: items.length, ...counts, by_difficulty: byDifficulty, templates: questionTemplates.length, intents: new Set(items.map((i) => i.intent)).size })}\n`,
  );
}
