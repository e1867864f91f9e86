/**
 * The generator agent: a promise actor (`generateCandidates`) that samples N candidates for one prompt and
 * scores them. The orchestrator's graph owns the generate → validate → correct loop; an agent is one
 * supervised effect (docs/agents.md says why).
 *
 * 1. The prompt comes built (task/text2sqlPrompt.ts — the one prompt builder; a correction prompt is a
 *    prompt too). N candidates on one context (one sequence each), temperature ladder 0.3…0.9
 *    (models/generationParams.ts), through the generation cache when one is given (key: the prompt, the
 *    schema fingerprint, the params, the adapter version, the mode).
 * 2. Scoring: SQL extracted from each completion; confidence = ½·exp(mean raw token log-prob) + ½·agreement
 *    (share of candidates with the same normalised SQL); `withVerdict` later scales it by the validator's
 *    verdict. User corrections remembered in a `FeedbackMemory` enter the prompt as few-shot examples (the
 *    task puts them there), and one whose question is near-identical (similarity ≥ 0.8) also enters as a
 *    candidate of its own (`source: "feedback"`; the tiny model's prompt has no room for examples); its
 *    confidence is at least its question similarity.
 * A model failure rejects the actor (the runtime's call rejects with the model's error).
 *
 * @example
 * const candidates = await runtime.call(generateCandidates, { generator: model, request: { prompt, mode: "answer", n: 4, schemaFingerprint } });
 */
import { fromPromise } from "xstate";
import { extractSql } from "../models/extractSql.js";
import { temperatureLadder } from "../models/generationParams.js";
import type { Completion, GenerationParams, Prompt, TextGenerator } from "../models/textGenerator.js";
import { generationCacheKey, type BoundedCache } from "../runtime/boundedCache.js";

/** A worked example from user feedback, with how similar its question is to the current one (0..1). */
export interface FeedbackExample {
  question: string;
  sql: string;
  similarity: number;
}

export interface GenerationRequest {
  /** The prompt (task/text2sqlPrompt.ts `taskPrompt` or `taskCorrectionPrompt`). */
  prompt: Prompt;
  /** "answer" a question afresh, or "correct" a failed query (part of the cache key). */
  mode: "answer" | "correct";
  /** Part of the cache key: a changed schema never reuses old generations. */
  schemaFingerprint: string;
  /** Candidates, ≥ 1. */
  n: number;
  params?: Partial<GenerationParams>;
  /** Remembered corrections; a near-identical one becomes a candidate. */
  examples?: FeedbackExample[];
}

export interface GeneratedCandidate {
  sql: string | null;
  /** The model's raw answer. */
  text: string;
  temperature: number | null;
  /** Mean raw log-prob of the sampled tokens (0 for remembered candidates). */
  meanLogprob: number;
  /** exp(meanLogprob), 0..1. */
  tokenConfidence: number;
  /** Share of candidates with the same normalised SQL, 0..1. */
  agreement: number;
  /** Combined 0..1 (see the file comment). */
  confidence: number;
  source: "model" | "feedback";
}

/** What the generator actor needs. */
export interface GeneratorInput {
  request: GenerationRequest;
  generator: TextGenerator;
  /** Shared generation cache (runtime/boundedCache.ts). */
  cache?: BoundedCache<Promise<Completion[]>>;
  /** The adapter version serving now (cache key). */
  adapter?: string | null;
}

/** Similarity at or above which a remembered correction is offered as a candidate. */
export const FEEDBACK_CANDIDATE_SIMILARITY = 0.8;

/** SQL text normalised for voting: lower case, single spaces, no trailing `;`. */
export function normalizeSql(sql: string): string {
  return sql.replace(/\s+/g, " ").trim().replace(/\s*;$/, "").toLowerCase();
}

/** Combined confidence of one candidate; a candidate the validator rejected keeps a quarter of it. */
export function candidateConfidence(parts: { tokenConfidence: number; agreement: number }): number {
  return Math.min(1, Math.max(0, 0.5 * parts.tokenConfidence + 0.5 * parts.agreement));
}

/** A candidate's confidence after the validator's verdict. */
export function withVerdict(confidence: number, valid: boolean): number {
  return valid ? confidence : confidence * 0.25;
}

/** Turns completions into scored candidates and appends remembered near-identical corrections. */
export function scoreCandidates(
  completions: readonly Completion[],
  temperatures: readonly (number | null)[],
  examples: readonly FeedbackExample[] = [],
): GeneratedCandidate[] {
  const drafts = completions.map((c, i) => {
    const meanLogprob = c.logprobs.length === 0 ? -Infinity : c.logprobs.reduce((a, b) => a + b, 0) / c.logprobs.length;
    return {
      sql: extractSql(c.text).sql,
      text: c.text,
      temperature: temperatures[i] ?? null,
      meanLogprob,
      source: "model" as const,
    };
  });
  const remembered = examples
    .filter((e) => e.similarity >= FEEDBACK_CANDIDATE_SIMILARITY)
    .map((e) => ({
      sql: e.sql,
      text: e.sql,
      temperature: null,
      meanLogprob: Math.log(e.similarity),
      source: "feedback" as const,
    }));
  const all = [...drafts, ...remembered];
  const counts = new Map<string, number>();
  for (const d of all) if (d.sql) counts.set(normalizeSql(d.sql), (counts.get(normalizeSql(d.sql)) ?? 0) + 1);
  return all.map((d) => {
    const tokenConfidence = Number.isFinite(d.meanLogprob) ? Math.exp(d.meanLogprob) : 0;
    const agreement = d.sql ? (counts.get(normalizeSql(d.sql)) ?? 0) / all.length : 0;
    const confidence = d.sql ? candidateConfidence({ tokenConfidence, agreement }) : 0;
    // A user's correction is verified SQL: it is as sure as the questions are alike.
    return {
      ...d,
      tokenConfidence,
      agreement,
      confidence: d.source === "feedback" ? Math.max(confidence, tokenConfidence) : confidence,
    };
  });
}

/** Samples the request's candidates (through the cache) and scores them (see the file comment). */
export async function sampleAndScore(input: GeneratorInput, signal?: AbortSignal): Promise<GeneratedCandidate[]> {
  const { request, generator, cache, adapter = null } = input;
  const temperatures = temperatureLadder(request.n);
  const run = (): Promise<Completion[]> =>
    generator.generateCandidates(request.prompt, request.n, { ...request.params, temperatures }, signal);
  if (!cache) return scoreCandidates(await run(), temperatures, request.examples);
  const key = generationCacheKey({
    question: JSON.stringify(request.prompt),
    schemaFingerprint: request.schemaFingerprint,
    adapter,
    mode: request.mode,
    params: { ...request.params, n: request.n },
  });
  const pending = cache.getOrCreate(key, run);
  // A generation stopped before it settled (the ask's time ran out) must not stay cached: a model that hung
  // once would hang every later ask of the same prompt. (Rejected ones the cache drops itself.)
  let settled = false;
  const forget = (): void => {
    if (!settled) cache.delete(key);
  };
  signal?.addEventListener("abort", forget, { once: true });
  try {
    const completions = await pending;
    settled = true;
    return scoreCandidates(completions, temperatures, request.examples);
  } finally {
    signal?.removeEventListener("abort", forget);
  }
}

/** The generator agent (see the file comment). */
export const generateCandidates = fromPromise<GeneratedCandidate[], GeneratorInput>(({ input, signal }) =>
  sampleAndScore(input, signal),
);

// ─── feedback memory ────────────────────────────────────────────────────────────────────────────────

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9_]+/g) ?? []);
}

/** Jaccard similarity of two questions' word sets, 0..1. */
export function questionSimilarity(a: string, b: string): number {
  const wa = words(a);
  const wb = words(b);
  if (wa.size === 0 && wb.size === 0) return 1;
  let shared = 0;
  for (const w of wa) if (wb.has(w)) shared++;
  return shared / (wa.size + wb.size - shared);
}

/**
 * User corrections kept as few-shot examples for similar later questions (bounded: the oldest go first).
 * @example
 * memory.remember("active projects over 100k", "SELECT name FROM projects WHERE status = 'active' AND budget > 100000");
 * memory.similar("active projects with budget over 100000"); // [{ question, sql, similarity: 0.5 }]
 */
export class FeedbackMemory {
  private readonly items: { question: string; sql: string }[] = [];

  constructor(private readonly maxItems = 200) {}

  get size(): number {
    return this.items.length;
  }

  /** Stores (or replaces) the correct SQL for a question. */
  remember(question: string, sql: string): void {
    const i = this.items.findIndex((e) => questionSimilarity(e.question, question) === 1);
    if (i >= 0) this.items.splice(i, 1);
    this.items.push({ question, sql });
    if (this.items.length > this.maxItems) this.items.shift();
  }

  /** Up to `k` remembered examples with similarity ≥ `minSimilarity`, most similar first. */
  similar(question: string, k = 3, minSimilarity = 0.3): FeedbackExample[] {
    return this.items
      .map((e) => ({ ...e, similarity: questionSimilarity(e.question, question) }))
      .filter((e) => e.similarity >= minSimilarity)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }
}
