/**
 * Episodes of the correction loop (task/correctionLoop.ts) with one candidate each: what multi-turn GRPO samples
 * (trainers/grpo/grpoEpisodes.ts) — `ask`'s loop with the policy as the generator (docs/grpo.md "Multi-turn episodes").
 *
 *   turn 1    `generate(firstPrompt, all episodes, 1)`: one call, one completion per episode (GRPO's group)
 *   feedback  extract the SQL → turnFeedback (validate; execute sandboxed when valid) → the failure
 *   stop      nextTurn: an episode stops on an answer (its query ran), with nothing to correct, or at maxTurns;
 *             the last allowed turn gets no feedback (nothing would read it: the reward scores the final SQL)
 *   turn k    for every episode still going: `generate(correctionPrompt(failure), [episode], k)`, concurrently
 * An episode's turns are (prompt_k, completion_k) pairs: the feedback lives in the next turn's prompt, never in a
 * completion, so a trainer that puts loss on completion tokens only masks it out by construction.
 *
 * @example
 * const episodes = await runEpisodes(prompt, 8, { generate, extractSql, validate, execute, correctionPrompt }, 2);
 * episodes[0].turns.length; // 1 when its first query ran, else 2
 */
import type { Completion, Prompt } from "../models/textGenerator.js";
import { nextTurn, turnFeedback, type TurnFeedback, type TurnTools } from "./correctionLoop.js";
import type { TaskFailure } from "./text2sqlPrompt.js";

export interface EpisodeTools extends TurnTools {
  /** One completion per listed episode for `prompt` (turn 1: every episode at once), in the order given. */
  generate(prompt: Prompt, episodes: readonly number[], turn: number): Promise<Completion[]>;
  extractSql(text: string): string | null;
  /** Turn k > 1's prompt after `failure` (turnPrompt with the question's style and context). */
  correctionPrompt(failure: TaskFailure): Prompt;
}

export interface EpisodeTurn {
  prompt: Prompt;
  completion: Completion;
  sql: string | null;
  /** What the turn's SQL got back; null on the last allowed turn (not computed). */
  feedback: TurnFeedback | null;
}

export interface Episode {
  turns: EpisodeTurn[];
}

/** `count` episodes of at most `maxTurns` turns from `firstPrompt` (see the file comment). */
export async function runEpisodes(
  firstPrompt: Prompt,
  count: number,
  tools: EpisodeTools,
  maxTurns: number,
): Promise<Episode[]> {
  const episodes: Episode[] = Array.from({ length: count }, () => ({ turns: [] }));
  const all = episodes.map((_, e) => e);
  const first = await tools.generate(firstPrompt, all, 1);
  let going = await Promise.all(all.map((e) => advance(episodes[e]!, firstPrompt, first[e]!, 1)));
  for (let turn = 2; turn <= maxTurns; turn += 1) {
    const next = all.filter((e) => going[e] !== null);
    if (next.length === 0) break;
    const results = await Promise.all(
      next.map(async (e) => {
        const prompt = tools.correctionPrompt(going[e]!);
        const [completion] = await tools.generate(prompt, [e], turn);
        return { e, failure: await advance(episodes[e]!, prompt, completion!, turn) };
      }),
    );
    going = all.map(() => null);
    for (const { e, failure } of results) going[e] = failure;
  }
  return episodes;

  /** Records a turn; returns the failure to correct when the episode goes on, else null. */
  async function advance(
    episode: Episode,
    prompt: Prompt,
    completion: Completion,
    turn: number,
  ): Promise<TaskFailure | null> {
    const sql = tools.extractSql(completion.text);
    const feedback = turn < maxTurns ? await turnFeedback(sql, tools) : null;
    episode.turns.push({ prompt, completion, sql, feedback });
    if (feedback === null) return null;
    const answered = feedback.execution?.ok === true;
    return nextTurn({ answered, failure: feedback.failure, turn, maxTurns }) === "correct" ? feedback.failure : null;
  }
}
