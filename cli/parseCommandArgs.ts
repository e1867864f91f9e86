/**
 * Flag parsing shared by every command: node's `util.parseArgs`, strict, with errors turned into
 * `InputError` (exit 2) that name the flag.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../errors.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * @example
 * const { values, positionals } = parseCommandArgs(argv, { sql: { type: "string" }, json: { type: "boolean" } }, "gl-rl exec");
 */
export interface ParsedCommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(argv: string[], options: OptionSpec, command: string): ParsedCommandArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedCommandArgs["values"], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new InputError(`${command}: ${message}`, { hint: `run 'gl-rl --help' for the flags of each command` });
  }
}

/** Parses a non-negative integer flag or throws an InputError naming it. */
export function parseIntegerFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InputError(`--${flag} must be a non-negative integer, got '${value}'`);
  }
  return n;
}
