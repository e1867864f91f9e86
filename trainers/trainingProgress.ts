/**
 * What a trainer reports its progress to: one `update` per optimizer step, one `finish`. The trainers hold
 * no terminal code; the CLI passes `createProgressBar` (cli/progressBar.ts), a library user anything with
 * this shape (or nothing: training is then silent).
 *
 * @example
 * await trainSft({ policy, train, config, progress: (label, total) => ({ update: (done) => log(label, done, total), finish: () => {} }) });
 */
export interface TrainingProgress {
  update(done: number, note?: string): void;
  finish(note?: string): void;
}

/** Creates the reporter of one run: `label` ("sft", "grpo"), total steps, and the step a resumed run starts at. */
export type TrainingProgressFactory = (label: string, total: number, options: { startAt: number }) => TrainingProgress;
