/**
 * Where the BIRD Mini-Dev PostgreSQL corpus lives: `data/bird-minidev/` in this repository (vendored from
 * the project's shared benchmarks, CC BY-SA 4.0 — see its README), or `$GL_RL_BIRD_MINIDEV` (a directory
 * with the same files). The validator's external test, the SQL bench and the tiny model's vocabulary
 * corpus read it; vendoring keeps all three the same on every machine.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The corpus directory: `mini_dev_postgresql.json`, `mini_dev_postgresql_gold.sql`, `pg_schemas/<db>.sql`. */
export function birdMinidevDir(): string {
  return process.env.GL_RL_BIRD_MINIDEV ?? fileURLToPath(new URL("./bird-minidev/", import.meta.url));
}

/** A file of the corpus. */
export const birdMinidevFile = (...parts: string[]): string => join(birdMinidevDir(), ...parts);
