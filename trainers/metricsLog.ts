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
import { writeFileAtomicSync } from "./checkpointFiles.js";

export function openMetricsLog(path: string, resumedFrom: number): (record: Record<string, unknown>) => void {
  if (resumedFrom === 0) {
    rmSync(path, { force: true });
  } else if (existsSync(path)) {
    const kept = readFileSync(path, "utf8")
      .split("\n")
      .filter((line) => {
        if (line.trim() === "") return false;
        try {
          const step = (JSON.parse(line) as { step?: unknown }).step;
          return typeof step !== "number" || step <= resumedFrom;
        } catch {
          return false; // a line cut by the kill
        }
      });
    writeFileAtomicSync(path, kept.map((l) => `${l}\n`).join(""));
  }
  return (record) => appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}
