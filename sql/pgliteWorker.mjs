// The worker thread that owns one PGlite instance for sql/pgliteExecutor.ts. Plain .mjs on purpose:
// worker_threads entry files run outside jest's/tsx's transform.
//
// workerData: { dataDir?: string, dump?: Uint8Array, readerRole: string }
//   dataDir — a persistent PGlite data directory (nodefs); dump — a dumpDataDir() tarball loaded into
//   memory. Neither: an empty in-memory database.
// Messages in:  { id, kind: "execute", sql, params, maxRows }  — untrusted, sandboxed
//               { id, kind: "admin", sql }                     — trusted, simple protocol (exec)
//               { id, kind: "dump", compression }              — dumpDataDir("gzip" | "none") as bytes
//               { id, kind: "close" }
// Messages out: { kind: "ready" } | { kind: "fatal", error } | { id, ok: true, result } | { id, ok: false, error }
//
// Sandbox of "execute": BEGIN; SET TRANSACTION READ ONLY; SET LOCAL ROLE <reader> (a NOLOGIN role with
// SELECT only, when it exists); then the statement through query() — the extended protocol, which
// accepts exactly one statement; then ROLLBACK, whatever happened. The time limit is enforced by the
// parent, which terminates this thread (PGlite ignores statement_timeout).
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

async function execute(db, { sql, params, maxRows }) {
  await db.exec(`BEGIN; SET TRANSACTION READ ONLY;${hasReaderRole ? ` SET LOCAL ROLE ${readerRole};` : ""}`);
  try {
    const started = performance.now();
    const result = await db.query(sql, params ?? [], { rowMode: "array", parsers: KEEP_AS_TEXT });
    const elapsedMs = performance.now() - started;
    const fields = result.fields ?? [];
    const columns = [];
    for (const field of fields) columns.push({ name: field.name, type: await typeName(db, field.dataTypeID) });
    const all = result.rows ?? [];
    const rows = all.length > maxRows ? all.slice(0, maxRows) : all;
    return { columns, rows, rowCount: rows.length, truncated: all.length > maxRows, elapsedMs };
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
