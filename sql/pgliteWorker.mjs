// The worker thread that owns one PGlite instance for sql/pgliteExecutor.ts. Plain .mjs on purpose:
// worker_threads entry files run outside jest's/tsx's transform.
//
// workerData: { dataDir?: string, dump?: Uint8Array, readerRole: string }
//   dataDir — a persistent PGlite data directory (nodefs); dump — a dumpDataDir() tarball loaded into
//   memory. Neither: an empty in-memory database.
// Messages in:  { id, kind: "execute", sql, params, maxRows, maxBytes, cursor, searchPath? }  — untrusted, sandboxed
//               { id, kind: "admin", sql }                     — trusted, simple protocol (exec)
//               { id, kind: "dump", compression }              — dumpDataDir("gzip" | "none") as bytes
//               { id, kind: "close" }
// Messages out: { kind: "ready" } | { kind: "fatal", error } | { id, ok: true, result } | { id, ok: false, error }
//
// Sandbox of "execute": BEGIN; SET TRANSACTION READ ONLY; SET LOCAL ROLE <reader> (a NOLOGIN role with
// SELECT only, when it exists); then the statement through query() — the extended protocol, which
// accepts exactly one statement; then ROLLBACK, whatever happened. The time limit is enforced by the
// parent, which terminates this thread (PGlite ignores statement_timeout).
//
// Bounded result: when `cursor` is given (the parent decided the statement is a query), the statement
// runs as `<cursor><sql>` (DECLARE … CURSOR FOR) and rows come in FETCH batches (64, doubling up to 4096),
// at most maxRows + 1 in all; a row whose size would take the result past maxBytes ends it (sizes: text
// length of strings, 8 per number or boolean, JSON length otherwise). Only the kept rows go back to the
// parent. A data-modifying WITH cannot be a cursor (SQLSTATE 0A000): it runs plainly and fails as a write.
// Error positions are shifted back by the cursor prefix so they point into the caller's SQL.
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";

const { dataDir, dump, readerRole } = workerData;

// `date` stays 'YYYY-MM-DD' text, as with the PostgreSQL executor: no time zone can shift a day.
const DATE_OID = 1082;
const KEEP_AS_TEXT = { [DATE_OID]: (text) => text };

/** @type {Map<number, string>} PostgreSQL type OID → type name. */
const typeNames = new Map();
let hasReaderRole = false;

function describeError(error) {
  if (error && typeof error === "object") {
    return {
      message: String(error.message ?? error),
      sqlstate: typeof error.code === "string" ? error.code : undefined,
      hint: typeof error.hint === "string" ? error.hint : undefined,
      detail: typeof error.detail === "string" ? error.detail : undefined,
      position: typeof error.position === "string" ? error.position : undefined,
    };
  }
  return { message: String(error) };
}

async function loadTypeNames(db) {
  const result = await db.query("SELECT oid::int AS oid, typname FROM pg_catalog.pg_type");
  for (const row of result.rows) typeNames.set(row.oid, row.typname);
}

async function typeName(db, oid) {
  if (!typeNames.has(oid)) {
    const result = await db.query("SELECT typname FROM pg_catalog.pg_type WHERE oid = $1", [oid]);
    typeNames.set(oid, result.rows[0]?.typname ?? String(oid));
  }
  return typeNames.get(oid);
}

async function refreshReaderRole(db) {
  const result = await db.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [readerRole]);
  hasReaderRole = result.rows.length > 0;
}

/** Approximate size of one row: text length of strings, 8 per number/boolean, JSON length otherwise. */
function rowBytes(row) {
  let bytes = 0;
  for (const value of row) {
    if (value === null || value === undefined) bytes += 1;
    else if (typeof value === "string") bytes += value.length;
    else if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") bytes += 8;
    else if (value instanceof Uint8Array) bytes += value.byteLength;
    else bytes += JSON.stringify(value)?.length ?? 8;
  }
  return bytes;
}

/** Appends rows to `kept` within the caps; returns "rows" | "bytes" when a cap cut the result, else null. */
function keep(kept, batch, limits) {
  for (const row of batch) {
    if (kept.rows.length >= limits.maxRows) return "rows";
    const size = rowBytes(row);
    if (kept.bytes + size > limits.maxBytes) return "bytes";
    kept.rows.push(row);
    kept.bytes += size;
  }
  return null;
}

const QUERY_OPTIONS = { rowMode: "array", parsers: KEEP_AS_TEXT };

async function fetchThroughCursor(db, cursor, sql, params, limits) {
  try {
    await db.query(`${cursor}${sql}`, params ?? []);
  } catch (error) {
    const position = Number(error?.position);
    if (Number.isFinite(position) && position > 0)
      throw Object.assign(new Error(error.message), {
        code: error.code,
        hint: error.hint,
        detail: error.detail,
        position: String(Math.max(1, position - cursor.length)),
      });
    throw error;
  }
  const name = cursor.split(/\s+/)[1];
  const kept = { rows: [], bytes: 0 };
  let fields = [];
  for (let batch = 64; ; batch = Math.min(batch * 2, 4096)) {
    const want = Math.min(batch, limits.maxRows + 1 - kept.rows.length);
    const result = await db.query(`FETCH FORWARD ${want} FROM ${name}`, [], QUERY_OPTIONS);
    fields = result.fields ?? fields;
    const cut = keep(kept, result.rows ?? [], limits);
    if (cut !== null) return { fields, ...kept, by: cut };
    if ((result.rows ?? []).length < want) return { fields, ...kept, by: null };
  }
}

async function fetchPlainly(db, sql, params, limits) {
  const result = await db.query(sql, params ?? [], QUERY_OPTIONS);
  const kept = { rows: [], bytes: 0 };
  const by = keep(kept, result.rows ?? [], limits);
  return { fields: result.fields ?? [], ...kept, by };
}

const begin = async (db, searchPath) => {
  await db.exec(`BEGIN; SET TRANSACTION READ ONLY;${hasReaderRole ? ` SET LOCAL ROLE ${readerRole};` : ""}`);
  // A parameter, never spliced: the search path of this transaction only (a test-suite variant's schema).
  if (searchPath) await db.query("SELECT set_config('search_path', $1, true)", [searchPath]);
};

async function execute(db, { sql, params, maxRows, maxBytes, cursor, searchPath }) {
  const limits = { maxRows, maxBytes };
  await begin(db, searchPath);
  try {
    const started = performance.now();
    let fetched;
    if (cursor) {
      try {
        fetched = await fetchThroughCursor(db, cursor, sql, params, limits);
      } catch (error) {
        if (error?.code !== "0A000") throw error;
        await db.exec("ROLLBACK");
        await begin(db, searchPath);
        fetched = await fetchPlainly(db, sql, params, limits);
      }
    } else fetched = await fetchPlainly(db, sql, params, limits);
    const elapsedMs = performance.now() - started;
    const columns = [];
    for (const field of fetched.fields) columns.push({ name: field.name, type: await typeName(db, field.dataTypeID) });
    return {
      columns,
      rows: fetched.rows,
      rowCount: fetched.rows.length,
      truncated: fetched.by !== null,
      truncatedBy: fetched.by,
      elapsedMs,
    };
  } finally {
    // A statement such as COMMIT may have ended our transaction already; ROLLBACK then only warns.
    await db.exec("ROLLBACK");
  }
}

async function main() {
  let db;
  try {
    if (dataDir) db = await PGlite.create({ dataDir });
    else if (dump) db = await PGlite.create({ loadDataDir: new Blob([dump]) });
    else db = await PGlite.create();
    await loadTypeNames(db);
    await refreshReaderRole(db);
  } catch (error) {
    parentPort.postMessage({ kind: "fatal", error: describeError(error) });
    return;
  }
  parentPort.on("message", async (message) => {
    try {
      let result;
      if (message.kind === "execute") result = await execute(db, message);
      else if (message.kind === "admin") {
        const results = await db.exec(message.sql);
        await refreshReaderRole(db);
        result = { statements: results.length };
      } else if (message.kind === "dump") {
        const blob = await db.dumpDataDir(message.compression === "none" ? "none" : "gzip");
        result = new Uint8Array(await blob.arrayBuffer());
      } else if (message.kind === "close") {
        await db.close();
        result = null;
      } else throw new Error(`unknown message kind '${message.kind}'`);
      parentPort.postMessage({ id: message.id, ok: true, result });
    } catch (error) {
      parentPort.postMessage({ id: message.id, ok: false, error: describeError(error) });
    }
  });
  parentPort.postMessage({ kind: "ready" });
}

await main();
