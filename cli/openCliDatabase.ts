/**
 * `openDatabase` for the CLI: a database that cannot be opened (unknown spec, uninitialised directory,
 * unreachable server) is unusable input, so it becomes an `InputError` (exit 2, one line on stderr)
 * with the original message and hint.
 *
 * @example
 * const db = await openCliDatabase(values.db as string | undefined, { timeoutMs: 5000 });
 */
import { InputError, isGlRlError } from "../errors.js";
import { openDatabase, type OpenDatabaseOptions } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";

export async function openCliDatabase(
  spec: string | undefined,
  options: OpenDatabaseOptions = {},
): Promise<SqlExecutor> {
  try {
    return await openDatabase(spec ?? "demo", options);
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new InputError(message, {
      hint: isGlRlError(error) ? error.hint : undefined,
      cause: error,
      context: { db: spec ?? "demo" },
    });
  }
}
