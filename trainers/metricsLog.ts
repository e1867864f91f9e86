/**
 * A trainer's metrics.jsonl, consistent across kills: a run that starts at step 0 starts a new file; a run
 * resumed from a checkpoint at step s first drops the lines logged after s (steps that the killed run
 * logged but did not checkpoint — they run again), so every step appears once. Then one JSON line per
 * record, `time` first.
 *
 * @example
 * const log = openMetricsLog(join(outDir, "metrics.jsonl"), resumedFrom);
 * log({ step: 1, loss: 0.7 });
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { parseJsonlLines } from "../data/jsonlLines.js";
import { writeFileAtomicSync } from "./checkpointFiles.js";

export function openMetricsLog(path: string, resumedFrom: number): (record: Record<string, unknown>) => void {
  if (resumedFrom === 0) {
    rmSync(path, { force: true });
  } else if (existsSync(path)) {
    // A line cut by the kill does not parse and is dropped; so are the steps after the checkpoint.
    const kept = parseJsonlLines(readFileSync(path, "utf8")).filter(
      ({ value }) => value !== undefined && (typeof value.step !== "number" || value.step <= resumedFrom),
    );
    writeFileAtomicSync(path, kept.map(({ value }) => `${JSON.stringify(value)}\n`).join(""));
  }
  return (record) => appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}
