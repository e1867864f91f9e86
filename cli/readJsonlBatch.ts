/**
 * Reads the `--file <in.jsonl>` batch of `gl-rl validate|exec|compare`: one JSON object per line.
 *
 * The whole file is checked before anything runs, so a bad batch fails with exit 2 and prints nothing
 * else: a missing/unreadable file, a line that is not a JSON object, or a line whose required field is
 * not a string is an `InputError` naming the file and the 1-based line number. Blank lines are skipped.
 * `id` may be a string or a number; a line without one gets its line number.
 *
 * @example
 * const items = await readJsonlBatch("queries.jsonl", ["sql"]);
 * // [{ line: 1, id: "q1", fields: { sql: "SELECT 1" } }, …]
 */
import { readFile } from "node:fs/promises";
import { parseJsonlLines } from "../data/jsonlLines.js";
import { InputError } from "../errors.js";

export interface JsonlBatchItem<K extends string> {
  /** 1-based line number in the file. */
  line: number;
  /** The line's `id` (string or number), or its line number when it has none. */
  id: string | number;
  fields: Record<K, string>;
}

export async function readJsonlBatch<K extends string>(
  path: string,
  required: readonly K[],
): Promise<JsonlBatchItem<K>[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: "pass an existing JSONL file to --file",
      context: { file: path },
    });
  }
  const shape = `{"id": …, ${required.map((k) => `"${k}": "…"`).join(", ")}}`;
  const items: JsonlBatchItem<K>[] = [];
  for (const parsed of parseJsonlLines(text)) {
    const line = parsed.line;
    if (parsed.error !== undefined) {
      throw new InputError(`${path} line ${line} ${parsed.error}`, {
        hint: `each line must be one JSON object such as ${shape}`,
        context: { file: path, line },
      });
    }
    const object = parsed.value;
    const fields = {} as Record<K, string>;
    for (const key of required) {
      if (typeof object[key] !== "string") {
        throw new InputError(`${path} line ${line} has no string field "${key}"`, {
          hint: `each line must look like ${shape}`,
          context: { file: path, line },
        });
      }
      fields[key] = object[key] as string;
    }
    const id = typeof object.id === "string" || typeof object.id === "number" ? object.id : line;
    items.push({ line, id, fields });
  }
  return items;
}
