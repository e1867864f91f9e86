/**
 * The tiny demo model for a command run without `--model`: the shipped file, or — when its recipe changed
 * (trainers/demoModel.ts) — built once with the progress bar and a note per build phase on stderr. A model
 * that is ready says nothing. `ask`, `eval` and `train grpo` use it.
 *
 * @example
 * const modelPath = values.model ?? (await cliDemoModel());
 */
import { ensureDemoModel } from "../trainers/demoModel.js";
import { createProgressBar } from "./progressBar.js";

export function cliDemoModel(): Promise<string> {
  let lastPhase = "";
  return ensureDemoModel({
    progress: createProgressBar,
    onProgress: (e) => {
      // A ready model reports only "done": say nothing then.
      if (e.phase !== lastPhase && !(lastPhase === "" && e.phase === "done"))
        process.stderr.write(
          `gl-rl: building the tiny demo model (its recipe changed; once, ≈ 7–10 min on 2 cores): ${e.phase}\n`,
        );
      lastPhase = e.phase;
    },
  });
}
