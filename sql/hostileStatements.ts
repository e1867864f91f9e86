/**
 * hostileStatements — the shared fixture of statements a read-only SQL path must refuse.
 *
 * Each entry: { category, sql, note }. The validator must refuse each with a safety error code, and
 * the executor (read-only, rolled-back transaction, one statement per call) must never let one change
 * the database or escape its limits. Tables named here come from data/schema.sql (gl_accounts,
 * journal_entries, journal_lines, …); statements must stay hostile even where a name does not exist.
 */

export type HostileCategory =
  | "write"
  | "ddl"
  | "multi-statement"
  | "comment-injection"
  | "string-injection"
  | "dangerous-function"
  | "catalog-access"
  | "locking"
  | "utility"
  | "transaction-control"
  | "session";

export interface HostileStatement {
  readonly category: HostileCategory;
  readonly sql: string;
  readonly note: string;
}

export const hostileStatements: readonly HostileStatement[] = [
  { category: "write", sql: "INSERT INTO gl_accounts (account_id) VALUES (999)", note: "plain INSERT" },
  { category: "write", sql: "UPDATE journal_entries SET posted = false", note: "plain UPDATE" },
  { category: "write", sql: "DELETE FROM journal_lines", note: "plain DELETE" },
  {
    category: "write",
    sql: "MERGE INTO gl_accounts a USING gl_accounts b ON a.account_id = b.account_id WHEN MATCHED THEN DELETE",
    note: "MERGE",
  },
  {
    category: "write",
    sql: "WITH d AS (DELETE FROM journal_lines RETURNING *) SELECT count(*) FROM d",
    note: "data-modifying CTE",
  },
  {
    category: "write",
    sql: "WITH u AS (UPDATE gl_accounts SET account_id = account_id RETURNING 1) SELECT * FROM u",
    note: "UPDATE inside CTE",
  },
  { category: "write", sql: "SELECT * INTO stolen FROM gl_accounts", note: "SELECT INTO creates a table" },
  { category: "write", sql: "TRUNCATE journal_lines", note: "TRUNCATE" },
  { category: "ddl", sql: "DROP TABLE gl_accounts", note: "DROP TABLE" },
  { category: "ddl", sql: "CREATE TABLE x (a int)", note: "CREATE TABLE" },
  { category: "ddl", sql: "ALTER TABLE gl_accounts ADD COLUMN evil text", note: "ALTER TABLE" },
  { category: "ddl", sql: "CREATE TABLE x AS SELECT * FROM gl_accounts", note: "CREATE TABLE AS" },
  { category: "ddl", sql: "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", note: "CREATE FUNCTION" },
  { category: "ddl", sql: "GRANT ALL ON gl_accounts TO PUBLIC", note: "GRANT" },
  { category: "ddl", sql: "CREATE ROLE evil SUPERUSER", note: "CREATE ROLE" },
  { category: "multi-statement", sql: "SELECT 1; DROP TABLE gl_accounts", note: "stacked DROP" },
  { category: "multi-statement", sql: "SELECT 1; COMMIT; DELETE FROM journal_lines", note: "escape the transaction" },
  {
    category: "multi-statement",
    sql: "SELECT 1;\nUPDATE gl_accounts SET account_id = 0;",
    note: "stacked UPDATE on a new line",
  },
  {
    category: "comment-injection",
    sql: "SELECT 1 /* harmless */; DELETE FROM journal_lines -- bye",
    note: "write after a block comment",
  },
  {
    category: "comment-injection",
    sql: "-- SELECT\nDELETE FROM journal_lines",
    note: "comment pretends it is a SELECT",
  },
  { category: "comment-injection", sql: "/* SELECT 1 */ DROP TABLE gl_accounts", note: "block comment before DDL" },
  {
    category: "comment-injection",
    sql: "SELECT 1 /* ; */ ; /**/ DROP TABLE gl_accounts",
    note: "semicolon hidden among comments",
  },
  {
    category: "string-injection",
    sql: "SELECT '1'; DROP TABLE gl_accounts; --'",
    note: "statement after a closed string",
  },
  {
    category: "string-injection",
    sql: "SELECT $$x$$; DELETE FROM journal_lines",
    note: "dollar-quoted string then a write",
  },
  {
    category: "string-injection",
    sql: "SELECT E'\\''; DELETE FROM journal_lines; --'",
    note: "escape-string quote trick",
  },
  { category: "dangerous-function", sql: "SELECT pg_sleep(30)", note: "sleep" },
  { category: "dangerous-function", sql: "SELECT pg_read_file('/etc/passwd')", note: "server file read" },
  { category: "dangerous-function", sql: "SELECT pg_ls_dir('.')", note: "directory listing" },
  { category: "dangerous-function", sql: "SELECT lo_import('/etc/passwd')", note: "large object import" },
  { category: "dangerous-function", sql: "SELECT lo_export(1, '/tmp/x')", note: "large object export" },
  { category: "dangerous-function", sql: "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)", note: "dblink" },
  {
    category: "dangerous-function",
    sql: "SELECT set_config('transaction_read_only', 'off', false)",
    note: "turn read-only off",
  },
  { category: "dangerous-function", sql: "SELECT current_setting('data_directory')", note: "read server settings" },
  { category: "dangerous-function", sql: "SELECT nextval('journal_entries_entry_id_seq')", note: "sequence write" },
  { category: "dangerous-function", sql: "SELECT pg_terminate_backend(1)", note: "kill a backend" },
  {
    category: "dangerous-function",
    sql: "SELECT a.account_id FROM gl_accounts a WHERE pg_sleep(1) IS NOT NULL",
    note: "sleep hidden in WHERE",
  },
  {
    category: "dangerous-function",
    sql: "WITH s AS (SELECT pg_sleep(10)) SELECT * FROM s",
    note: "sleep inside a CTE",
  },
  {
    category: "dangerous-function",
    sql: "SELECT count(*) FROM generate_series(1, 200000000)",
    note: "CPU-bound runaway",
  },
  { category: "catalog-access", sql: "SELECT * FROM pg_catalog.pg_authid", note: "password hashes" },
  { category: "catalog-access", sql: "SELECT usename, passwd FROM pg_shadow", note: "pg_shadow" },
  { category: "catalog-access", sql: "SELECT * FROM information_schema.tables", note: "information_schema" },
  { category: "catalog-access", sql: "SELECT * FROM pg_settings", note: "server settings" },
  { category: "locking", sql: "SELECT * FROM gl_accounts FOR UPDATE", note: "row lock" },
  { category: "locking", sql: "SELECT * FROM gl_accounts FOR SHARE NOWAIT", note: "share lock" },
  { category: "locking", sql: "LOCK TABLE gl_accounts IN ACCESS EXCLUSIVE MODE", note: "table lock" },
  { category: "utility", sql: "COPY gl_accounts TO '/tmp/gl_accounts.csv'", note: "COPY to a server file" },
  { category: "utility", sql: "COPY (SELECT 1) TO PROGRAM 'id'", note: "COPY TO PROGRAM" },
  { category: "utility", sql: "DO $$ BEGIN DELETE FROM journal_lines; END $$", note: "anonymous block" },
  { category: "utility", sql: "CALL some_procedure()", note: "CALL" },
  { category: "utility", sql: "EXPLAIN ANALYZE DELETE FROM journal_lines", note: "EXPLAIN ANALYZE runs the statement" },
  { category: "utility", sql: "PREPARE p AS DELETE FROM journal_lines", note: "PREPARE" },
  { category: "utility", sql: "EXECUTE p", note: "EXECUTE" },
  { category: "utility", sql: "LISTEN channel", note: "LISTEN" },
  { category: "utility", sql: "NOTIFY channel, 'x'", note: "NOTIFY" },
  { category: "utility", sql: "VACUUM FULL gl_accounts", note: "VACUUM" },
  { category: "utility", sql: "ANALYZE gl_accounts", note: "ANALYZE" },
  { category: "session", sql: "SET transaction_read_only = off", note: "SET" },
  { category: "session", sql: "SET ROLE postgres", note: "SET ROLE" },
  { category: "session", sql: "RESET ALL", note: "RESET" },
  { category: "transaction-control", sql: "BEGIN", note: "BEGIN" },
  { category: "transaction-control", sql: "COMMIT", note: "COMMIT" },
  { category: "transaction-control", sql: "ROLLBACK", note: "ROLLBACK" },
  { category: "transaction-control", sql: "SAVEPOINT s", note: "SAVEPOINT" },
];
