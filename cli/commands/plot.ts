/**
 * `gl-rl plot <metrics.jsonl> [--out file.svg|file.html]` — training curves (reward, accuracy, KL, loss)
 * as a standalone SVG (or an HTML page holding it). Default output: the metrics path with .svg.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { InputError } from "../../errors.js";
import { renderMetricsPlot } from "../renderMetricsPlot.js";
import { parseCommandArgs } from "../parseCommandArgs.js";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: "string" } }, "gl-rl plot");
  const input = positionals[0];
  if (input === undefined || positionals.length > 1) {
    throw new InputError("gl-rl plot takes exactly one metrics file", {
      hint: "gl-rl plot runs/grpo/metrics.jsonl --out curves.svg",
    });
  }
  if (!existsSync(input))
    throw new InputError(`metrics file not found: ${input}`, {
      hint: "pass the metrics.jsonl written by gl-rl train sft|grpo",
    });
  const out = (values.out as string | undefined) ?? `${input.replace(/\.jsonl?$/, "")}.svg`;
  const svg = renderMetricsPlot(readFileSync(input, "utf8"), { file: input, title: `gl-rl — ${input}` });
  const body = out.endsWith(".html")
    ? `<!doctype html>\n<html><head><meta charset="utf-8"><title>${input}</title></head><body>\n${svg}\n</body></html>\n`
    : `${svg}\n`;
  writeFileSync(`${out}.tmp`, body);
  renameSync(`${out}.tmp`, out);
  process.stdout.write(`${out}\n`);
  return 0;
}
