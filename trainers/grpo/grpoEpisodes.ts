/**
 * GRPO's rollouts: single-shot groups, or multi-turn episodes of ask's correction loop (docs/grpo.md "Multi-turn
 * episodes"; the loop itself is task/runEpisodes.ts, the one the orchestrator runs).
 *
 * Representation: an episode of T turns is T sequences (prompt_k, completion_k) in the PolicyBackend batch, one
 * per model turn, sharing one advantage (grpoLoss `episodes`). Turn k's prompt is the correction prompt (the task
 * prompt plus the failed SQL, the error and its hint), so the feedback is prompt context: only completion tokens
 * carry loss, and the feedback is masked out by construction — no change to the PolicyBackend interface. (One
 * packed sequence prompt_1 completion_1 feedback_2 … would need a per-token loss mask the batch type lacks, and
 * would not be what `ask` sends: its correction prompt is a fresh prompt, not a continued conversation.)
 *
 *   turns = 1   sampleGroups: G completions per prompt, exactly softmax(logits / T) — each an episode of one turn
 *   turns = N   runEpisodes with the sampler as the generator: turn 1 is the group (the same call and seeds as
 *               single-shot), each later turn one completion per episode that goes on, its seeds a function of
 *               (seed, step, prompt, episode, turn); feedback = the validator and the sandboxed execution
 *   batch       every turn of every episode: [prompt_k tokens, completion_k tokens], completionStart = |prompt_k|;
 *               episodes[j] = its episode's index (P·G of them), masked[j] = the TURN was cut at the token limit
 *               (maskTruncatedCompletions) — a cut turn leaves the loss, its episode's other turns do not
 *
 * Letters: P = prompts, G = group size, E = P·G episodes, S = Σ turns sequences in the batch.
 */
import { InputError } from "../../errors.js";
import type { CandidateOptions, Completion, GenerationParams, Prompt } from "../../models/textGenerator.js";
import type { TurnTools } from "../../task/correctionLoop.js";
import { runEpisodes } from "../../task/runEpisodes.js";
import type { TaskFailure } from "../../task/text2sqlPrompt.js";
import type { GrpoConfig } from "./grpoConfig.js";
import type { TokenSequence } from "../policyBackend.js";

/** One training prompt: what the sampler sees and the token ids the policy sees. */
export interface GrpoPrompt {
  /** The dataset item's id (completions.jsonl names it). */
  id?: string;
  question: string;
  goldSql?: string;
  prompt: Prompt;
  /** The rendered prompt's token ids (models/promptTemplates.ts `trainingTokens`), [T_prompt]. */
  promptTokens: number[];
  /** Multi-turn: the correction prompt after `failure` (task/correctionLoop.ts `turnPrompt`) and its token ids. */
  correct?(failure: TaskFailure): { prompt: Prompt; promptTokens: number[] };
}

/** The sampler subset the step needs (a LoadedModel has it). */
export interface GrpoSampler {
  generateCandidates(
    prompt: Prompt,
    n: number,
    params?: Partial<GenerationParams> & CandidateOptions,
    signal?: AbortSignal,
  ): Promise<Completion[]>;
  setAdapter(path: string): Promise<unknown>;
  /**
   * true: each completion's `logprobs` are the sampler's own log-probs of its tokens under the distribution it drew
   * them from — another engine's numbers (rollout servers, trainers/rollouts/), which the loss corrects for
   * (grpoLoss.ts, truncated importance sampling). Absent: the sampler is the trainer's twin (in-process).
   */
  readonly samplingLogprobs?: boolean;
}

/** One model turn of an episode. */
export interface GrpoTurn {
  /** The turn's prompt token ids, [T_prompt_k]. */
  promptTokens: number[];
  completion: Completion;
  /** The failure this turn's SQL got, shown in the next turn's prompt (null: it ran, had no SQL, or was last). */
  failure: TaskFailure | null;
}

/** One rollout: its turns, the last one the answer the reward scores. */
export interface GrpoEpisode {
  turns: GrpoTurn[];
}

type SamplingConfig = Pick<GrpoConfig, "groupSize" | "temperature" | "maxCompletionTokens" | "seed">;

/**
 * G completions for each prompt, [P][G]; prompts sampled concurrently (the sampler shares batches). The
 * sampler's own fixed params (trainers/grpo/grpoRun.ts `createGrpoSampler`) make the distribution exactly
 * softmax(logits / T) and skip re-scoring (`scoreLogprobs: false`: the policy computes the log-probs).
 */
export async function sampleGroups(
  sampler: GrpoSampler,
  prompts: readonly GrpoPrompt[],
  config: SamplingConfig,
  step: number,
): Promise<Completion[][]> {
  return Promise.all(
    prompts.map((p, k) =>
      sampler.generateCandidates(p.prompt, config.groupSize, {
        temperatures: new Array<number>(config.groupSize).fill(config.temperature),
        seeds: Array.from(
          { length: config.groupSize },
          (_, i) => config.seed + step * 100_003 + k * config.groupSize + i,
        ),
        maxTokens: config.maxCompletionTokens,
      }),
    ),
  );
}

/** G episodes for each prompt, [P][G] (see the file comment); `tools` are needed when config.turns > 1. */
export async function sampleEpisodes(
  sampler: GrpoSampler,
  prompts: readonly GrpoPrompt[],
  config: SamplingConfig & Pick<GrpoConfig, "turns">,
  step: number,
  extractSql: (text: string) => string | null,
  tools?: TurnTools,
): Promise<GrpoEpisode[][]> {
  if (config.turns === 1) {
    const groups = await sampleGroups(sampler, prompts, config, step);
    return groups.map((group, k) =>
      group.map((completion) => ({
        turns: [{ promptTokens: prompts[k]!.promptTokens, completion, failure: null }],
      })),
    );
  }
  if (tools === undefined || prompts.some((p) => p.correct === undefined))
    throw new InputError(`GRPO with turns = ${config.turns} needs the validator, the executor and correction prompts`, {
      hint: "build prompts with buildGrpoPrompts(…, database) and pass turnTools (trainers/grpo/grpoRun.ts does both)",
    });
  const G = config.groupSize;
  return Promise.all(
    prompts.map(async (p, k) => {
      const tokensOf = new Map<Prompt, number[]>([[p.prompt, p.promptTokens]]);
      const seed = (episode: number, turn: number) =>
        config.seed + step * 100_003 + k * G + episode + (turn - 1) * 1_000_003;
      const episodes = await runEpisodes(
        p.prompt,
        G,
        {
          ...tools,
          extractSql,
          generate: (prompt, episodes, turn) =>
            sampler.generateCandidates(prompt, episodes.length, {
              temperatures: episodes.map(() => config.temperature),
              seeds: episodes.map((e) => seed(e, turn)),
              maxTokens: config.maxCompletionTokens,
            }),
          correctionPrompt: (failure) => {
            const next = p.correct!(failure);
            tokensOf.set(next.prompt, next.promptTokens);
            return next.prompt;
          },
        },
        config.turns,
      );
      return episodes.map((episode) => ({
        turns: episode.turns.map((turn, t) => ({
          promptTokens: tokensOf.get(turn.prompt)!,
          completion: turn.completion,
          failure: t + 1 < episode.turns.length ? (turn.feedback?.failure ?? null) : null,
        })),
      }));
    }),
  );
}

/**
 * The policy's batch of P·G episodes: one sequence per turn, its episode's index, the turn masks, and (with
 * `samplingLogprobs`) every turn's sampler log-probs, which must then cover each of its tokens.
 */
export function episodeBatch(
  groups: readonly GrpoEpisode[][],
  maskTruncatedCompletions: boolean,
  samplingLogprobs = false,
): {
  batch: TokenSequence[];
  episodes: number[];
  truncated: boolean[];
  masked: boolean[];
  samplingLogprobs?: number[][];
} {
  const turns = groups.flat().flatMap((episode, e) => episode.turns.map((turn) => ({ turn, e })));
  const truncated = turns.map(({ turn }) => turn.completion.finishReason === "maxTokens");
  if (samplingLogprobs) {
    const bad = turns.find(({ turn }) => turn.completion.logprobs.length !== turn.completion.tokens.length);
    if (bad)
      throw new InputError(
        `GRPO: a sampled completion has ${bad.turn.completion.tokens.length} tokens but ${bad.turn.completion.logprobs.length} sampler log-probs`,
        {
          hint: "the rollout server must return each token's id and log-prob (llama-server: logprobs with post_sampling_probs)",
        },
      );
  }
  return {
    ...(samplingLogprobs ? { samplingLogprobs: turns.map(({ turn }) => turn.completion.logprobs) } : {}),
    batch: turns.map(({ turn }) => ({
      tokens: [...turn.promptTokens, ...turn.completion.tokens],
      completionStart: turn.promptTokens.length,
    })),
    episodes: turns.map(({ e }) => e),
    truncated,
    masked: truncated.map((t) => t && maskTruncatedCompletions),
  };
}
