/**
 * `gl-rl model demo --out <file.gguf> [--precision q8_0|f16|f32] [--threads N] [--steps N] [--json]` — writes
 * the tiny demo model of the current recipe at a precision, tagged with its recipe key
 * (trainers/shippedDemoModel.ts). Builds the f32 model first when it is not cached (≈ 7–10 min on 2 cores,
 * progress on stderr). `--steps N`: a short build (tests), which has its own key.
 *
 * The package's shipped model is made with it:
 *   GL_RL_THREADS=1 npx gl-rl model demo --out data/demo-model.gguf --precision q8_0
 * Output: one line (or with --json one object `{ "path", "key", "precision", "bytes", "source" }`).
 * Exit codes: 0 written; 2 bad flags.
 */
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import { GGUF_PRECISIONS, type GgufPrecision } from "../../models/quantizeGguf.js";
import { demoModelKey, demoModelRecipe, ensureDemoModel } from "../../trainers/demoModel.js";
import { writeShippedDemoModel } from "../../trainers/shippedDemoModel.js";
import { createProgressBar } from "../progressBar.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      out: { type: "string" },
      precision: { type: "string" },
      threads: { type: "string" },
      steps: { type: "string" },
      json: { type: "boolean" },
    },
    "gl-rl model demo",
  );
  const out = values.out as string | undefined;
  if (!out)
    throw new InputError("gl-rl model demo: --out <file.gguf> is required", {
      hint: "e.g. gl-rl model demo --out data/demo-model.gguf",
    });
  const precision = (values.precision ?? "q8_0") as GgufPrecision;
  if (!GGUF_PRECISIONS.includes(precision))
    throw new InputError(`--precision must be one of ${GGUF_PRECISIONS.join(", ")}, got '${precision}'`);
  const threads = parseIntegerFlag(values.threads as string | undefined, "threads", 0);
  const steps = parseIntegerFlag(values.steps as string | undefined, "steps", 0);
  const options = { ...(steps > 0 ? { steps } : {}), ...(threads > 0 ? { threads } : {}) };

  const source = await ensureDemoModel({ ...options, shipped: false, progress: createProgressBar });
  const key = demoModelKey(options);
  const written = writeShippedDemoModel({
    source,
    out: resolve(out),
    key,
    recipe: { ...demoModelRecipe, ...(steps > 0 ? { steps } : {}) },
    precision,
  });
  const summary = { path: written.path, key, precision, bytes: written.bytes, source };
  process.stdout.write(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : `wrote ${summary.path}: the demo model (recipe key ${key}) at ${precision}, ${summary.bytes} bytes (from ${source})\n`,
  );
  return 0;
}
