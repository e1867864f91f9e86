import { describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openMetricsLog } from "./metricsLog.js";

const steps = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { step?: number; eval?: boolean; note?: string });

describe("openMetricsLog", () => {
  test("a resumed run drops the lines logged after its checkpoint, so every step appears once", () => {
    const path = join(mkdtempSync(join(tmpdir(), "glrl-metrics-")), "metrics.jsonl");
    const first = openMetricsLog(path, 0);
    for (let step = 1; step <= 7; step++) first({ step, loss: 1 / step });
    first({ step: 5, eval: true });
    writeFileSync(path, `${readFileSync(path, "utf8")}{"step": 8, "lo`); // cut by the kill
    const resumed = openMetricsLog(path, 5); // checkpoint at step 5
    for (let step = 6; step <= 8; step++) resumed({ step, loss: 1 / step });
    const records = steps(path);
    expect(records.filter((r) => !r.eval).map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records.filter((r) => r.eval).map((r) => r.step)).toEqual([5]);
    expect(Object.keys(records[0]!)[0]).toBe("time");
  });

  test("a run from step 0 starts a new file", () => {
    const path = join(mkdtempSync(join(tmpdir(), "glrl-metrics-")), "metrics.jsonl");
    writeFileSync(path, '{"step": 3}\n');
    openMetricsLog(path, 0)({ step: 1 });
    expect(steps(path).map((r) => r.step)).toEqual([1]);
  });
});
