/**
 * A LangGraph checkpointer from a spec string, so that conversations (threads) outlive one process:
 *
 * - `memory`: LangGraph's MemorySaver (one process; the default).
 * - `postgres://…` / `postgresql://…`: LangGraph's own PostgreSQL checkpointer
 *   (@langchain/langgraph-checkpoint-postgres `PostgresSaver`) in the schema `glrl_checkpoints`, created with
 *   its tables on first use (`setup()`, idempotent). Several processes may share it at once.
 * - `pglite:<dir>`: the same PostgresSaver on an embedded PGlite data directory through PGlite's
 *   node-postgres adapter (@electric-sql/pglite/node-postgres) — threads that survive the process without a
 *   server; one process at a time may open the directory.
 * Use a database of its own for checkpoints: the schema linker reads every schema of the database it asks.
 *
 * @example
 * const { saver, close } = await openCheckpointer("postgres://gl:pw@localhost:5432/glrl_threads");
 * const agent = await createText2SqlAgent({ model, db, checkpointer: saver });
 * await agent.ask("How many projects?", { threadId: "alice-1" }); // another process continues "alice-1"
 * await agent.close(); await close();
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import { type BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import pg from "pg";
import { DatabaseError, InputError } from "../errors.js";
import { describePostgresUrl } from "../sql/postgresExecutor.js";

/** The schema the PostgreSQL checkpointer keeps its tables in. */
export const CHECKPOINT_SCHEMA = "glrl_checkpoints";

export interface OpenedCheckpointer {
  saver: BaseCheckpointSaver;
  /** Releases the connection pool / the embedded database. */
  close(): Promise<void>;
}

export const CHECKPOINTER_HINT = "use --checkpointer memory, postgres://user:password@host:5432/db or pglite:<dir>";

async function setUp(
  saver: PostgresSaver,
  description: string,
  release: () => Promise<void>,
): Promise<OpenedCheckpointer> {
  try {
    await saver.setup();
  } catch (error) {
    await release().catch(() => undefined);
    throw new DatabaseError(
      "checkpointer_unavailable",
      `could not set up the checkpointer on ${description}: ${error instanceof Error ? error.message : String(error)}`,
      { hint: "check the URL, the password and that the role may create a schema and tables", cause: error },
    );
  }
  return { saver, close: release };
}

/** Opens the checkpointer a spec names (see the file comment). */
export async function openCheckpointer(spec: string): Promise<OpenedCheckpointer> {
  const s = spec.trim();
  if (s === "" || s === "memory") return { saver: new MemorySaver(), close: async () => undefined };
  if (s.startsWith("postgres://") || s.startsWith("postgresql://")) {
    const pool = new pg.Pool({ connectionString: s, max: 4, connectionTimeoutMillis: 3000 });
    pool.on("error", () => undefined); // an idle client's socket error: the next query reports it
    const saver = new PostgresSaver(pool, undefined, { schema: CHECKPOINT_SCHEMA });
    return setUp(saver, describePostgresUrl(s), () => saver.end());
  }
  if (s.startsWith("pglite:")) {
    const dir = resolve(s.slice("pglite:".length));
    if (dir === resolve(""))
      throw new InputError("--checkpointer pglite: needs a directory", { hint: CHECKPOINTER_HINT });
    mkdirSync(dir, { recursive: true });
    const pglite = await PGlite.create({ dataDir: dir });
    const pool = new pg.Pool(createPgConfig(pglite) as pg.PoolConfig);
    const saver = new PostgresSaver(pool, undefined, { schema: CHECKPOINT_SCHEMA });
    return setUp(saver, `pglite:${dir}`, async () => {
      await saver.end();
      await pglite.close();
    });
  }
  throw new InputError(`unknown checkpointer '${s}'`, { hint: CHECKPOINTER_HINT });
}
