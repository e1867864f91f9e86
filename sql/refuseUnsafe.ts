/**
 * The default-deny guard before anything runs a user's own SQL (`gl-rl exec`, the MCP server's
 * `execute_sql`): the validator's safety policy (sql/safetyPolicy.ts, as validateSql's first stage), run
 * before execution. The executor's sandbox (read-only transaction, time limit, row and byte caps, rollback)
 * stays the second line of defence.
 *
 * @example
 * await refuseUnsafe("DELETE FROM projects"); // throws SqlRefusedError unsafe_<code>, with its hint
 * const result = await db.execute(sql);
 */
import { SqlRefusedError } from "../errors.js";
import { checkSafety } from "./safetyPolicy.js";

/** Throws `SqlRefusedError` with the first violation's code (`unsafe_<code>`), every violation in the message. */
export async function refuseUnsafe(sql: string): Promise<void> {
  const verdict = checkSafety(sql);
  if (verdict.safe) return;
  const first = verdict.violations[0]!;
  throw new SqlRefusedError(
    `unsafe_${first.code}`,
    `refused before execution: ${verdict.violations.map((v) => v.message).join("; ")}`,
    {
      hint: first.hint,
      context: { sql, violations: verdict.violations.map((v) => v.code) },
    },
  );
}
