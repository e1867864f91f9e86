/**
 * The one JSONL reader: splits text into its non-blank lines and parses each as one JSON object, or says
 * why it is not one. Callers decide what a bad line means — the dataset loader lists every bad line, a CLI
 * batch fails on the first, a metrics log drops a line cut by a kill.
 *
 * @example
 * parseJsonlLines('{"a":1}\n\n[2]\n');
 * // [{ line: 1, value: { a: 1 } }, { line: 3, error: "is not a JSON object" }]
 */
export type JsonlLine =
  | { /** 1-based */ line: number; value: Record<string, unknown>; error?: undefined }
  | { /** 1-based */ line: number; error: string; value?: undefined };

export function parseJsonlLines(text: string): JsonlLine[] {
  const out: JsonlLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      out.push({ line: i + 1, error: `is not JSON: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      out.push({ line: i + 1, error: "is not a JSON object" });
      continue;
    }
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  return out;
}
