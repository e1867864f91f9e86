import { afterAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "plot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/gl-rl.mjs", "plot", ...args], { encoding: "utf8", timeout: 60_000 });

describe("gl-rl plot", () => {
  it("renders reward, accuracy and KL panels as SVG and as HTML", () => {
    const metrics = join(dir, "metrics.jsonl");
    writeFileSync(
      metrics,
      [
        { step: 0, eval: true, execution_accuracy: 0.2 },
        { step: 1, rewardMean: 0.1, klMean: 0.0, loss: 0.3 },
        { step: 2, rewardMean: 0.4, klMean: 0.01, loss: 0.2 },
        { step: 2, eval: true, execution_accuracy: 0.35 },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const svgRun = cli(metrics);
    expect(svgRun.status).toBe(0);
    const svg = readFileSync(join(dir, "metrics.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(4); // reward, accuracy, KL, loss
    expect(svg).toContain("dev execution accuracy — last 0.350");
    const html = join(dir, "curves.html");
    expect(cli(metrics, "--out", html).status).toBe(0);
    expect(readFileSync(html, "utf8")).toMatch(/^<!doctype html>[\s\S]*<svg/);
  });

  it("plots GRPO's per-split accuracy keys (dev_execution_accuracy, a file split's) as panels of their own", () => {
    const metrics = join(dir, "grpo.jsonl");
    writeFileSync(
      metrics,
      [
        { step: 0, eval: true, dev_execution_accuracy: 0.478, dev_n: 92, mine_execution_accuracy: 0.1 },
        { step: 1, rewardMean: 0.9, klMean: 0.0, loss: 0.01 },
        { step: 2, rewardMean: 1.0, klMean: 0.002, loss: 0.02 },
        { step: 2, eval: true, dev_execution_accuracy: 0.489, mine_execution_accuracy: 0.25 },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    expect(cli(metrics).status).toBe(0);
    const svg = readFileSync(join(dir, "grpo.svg"), "utf8");
    expect(svg.match(/<polyline/g)).toHaveLength(5); // reward, dev accuracy, mine accuracy, KL, loss
    expect(svg).toContain("dev execution accuracy — last 0.489");
    expect(svg).toContain("mine execution accuracy — last 0.250");
  });

  it("exits 2 with a one-line message on a bad line or a missing file", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `{"step":1,"loss":1}\nnot json\n`);
    const r = cli(bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/line 2 is not JSON/);
    expect(cli(join(dir, "missing.jsonl")).status).toBe(2);
  });
});
