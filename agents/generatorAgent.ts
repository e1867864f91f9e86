/**
 * The generator agent: a pure XState machine whose effects are named promise actors.
 *
 *   routing ──(isCorrection)──▶ correcting ─┐
 *      └───────────────────────▶ generating ─┴─▶ scoring ─▶ done      (any effect error ─▶ failed)
 *
 * 1. `generateSql`: N candidates for one prompt on one context (one sequence each), temperature ladder
 *    0.3…0.9 (models/generationParams.ts), through the generation cache when one is given (key: question,
 *    schema fingerprint, params, adapter version, mode).
 * 2. `correctSql`: N candidates for the correction prompt (the failed SQL, the error, its hint).
 * 3. scoring: SQL extracted from each completion; confidence = ½·exp(mean raw token log-prob) + ½·agreement
 *    (share of candidates with the same normalised SQL); `withVerdict` later scales it by the validator's
 *    verdict; a remembered correction's confidence is at least its question similarity. User corrections remembered in a `FeedbackMemory` enter as few-shot examples, and one whose
 *    question is near-identical (similarity ≥ 0.8) also enters as a candidate of its own (`source:
 *    "feedback"`) — the tiny model's prompt has no room for examples.
 * Output: `{ ok: true, value: GeneratedCandidate[] }` or `{ ok: false, error }` (the runtime unwraps it).
 *
 * @example
 * const candidates = await runtime.call(generatorMachine, { generator: model, request: { question, promptStyle: "tiny", n: 4, schemaFingerprint } });
 */
import { assign, fromPromise, setup } from "xstate";
import { extractSql } from "../models/extractSql.js";
import { temperatureLadder } from "../models/generationParams.js";
import { buildCorrectionPrompt, buildPrompt, type PromptStyle, type TableContext } from "../models/promptTemplates.js";
import type { Completion, GenerationParams, Prompt, TextGenerator } from "../models/textGenerator.js";
import { generationCacheKey, type BoundedCache } from "../runtime/boundedCache.js";
import type { AgentResult } from "../runtime/actorRuntime.js";

/** A worked example from user feedback, with how similar its question is to the current one (0..1). */
export interface FeedbackExample {
  question: string;
  sql: string;
  similarity: number;
}

export interface GenerationRequest {
  question: string;
  evidence?: string;
  promptStyle: PromptStyle;
  /** Linked tables (schemaAware prompts). */
  tables?: TableContext[];
  /** Whole-schema DDL (zeroShot / fewShot prompts). */
  schema?: string;
  /** Part of the cache key: a changed schema never reuses old generations. */
  schemaFingerprint: string;
  /** Candidates, ≥ 1. */
  n: number;
  params?: Partial<GenerationParams>;
  examples?: FeedbackExample[];
  /** Present: correct this failed SQL instead of answering afresh. */
  correction?: { failedSql: string; error: string; hint?: string };
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

/** The prompt for a request: plain, few-shot (examples injected into the user turn), or correction. */
export function buildGenerationPrompt(request: GenerationRequest): Prompt {
  const input = {
    question: request.question,
    evidence: request.evidence,
    tables: request.tables,
    schema: request.schema,
    examples: request.examples,
  };
  if (request.correction) return buildCorrectionPrompt(request.promptStyle, { ...input, ...request.correction });
  const prompt = buildPrompt(request.promptStyle, input);
  const examples = request.examples ?? [];
  if (!("messages" in prompt) || examples.length === 0 || request.promptStyle === "fewShot") return prompt;
  const shots = `Examples:\n${examples.map((e) => `Question: ${e.question}\n\`\`\`sql\n${e.sql.trim()}\n\`\`\``).join("\n\n")}`;
  const [system, user] = prompt.messages;
  return { messages: [system!, { role: "user", content: user!.content.replace(/(Question: )/, `${shots}\n\n$1`) }] };
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

interface SampleInput extends GeneratorInput {
  mode: "answer" | "correct";
}

async function sampleCandidates({
  input,
  signal,
}: {
  input: SampleInput;
  signal: AbortSignal;
}): Promise<{ completions: Completion[]; temperatures: number[] }> {
  const { request, generator, cache, adapter = null } = input;
  const temperatures = temperatureLadder(request.n);
  const prompt = buildGenerationPrompt(request);
  const run = (): Promise<Completion[]> =>
    generator.generateCandidates(prompt, request.n, { ...request.params, temperatures }, signal);
  if (!cache) return { completions: await run(), temperatures };
  const key = generationCacheKey({
    question: JSON.stringify(prompt),
    schemaFingerprint: request.schemaFingerprint,
    adapter,
    mode: input.mode,
    params: { ...request.params, n: request.n },
  });
  return { completions: await cache.getOrCreate(key, run), temperatures };
}

interface GeneratorContext extends GeneratorInput {
  completions: Completion[];
  temperatures: number[];
  candidates: GeneratedCandidate[];
  error: unknown;
  failed: boolean;
}

/** The generator machine (see the file comment). */
export const generatorMachine = setup({
  types: {
    input: {} as GeneratorInput,
    context: {} as GeneratorContext,
    output: {} as AgentResult<GeneratedCandidate[]>,
  },
  actors: {
    generateSql: fromPromise(sampleCandidates),
    correctSql: fromPromise(sampleCandidates),
  },
  guards: {
    isCorrection: ({ context }) => context.request.correction !== undefined,
  },
}).createMachine({
  id: "generator",
  context: ({ input }) => ({ ...input, completions: [], temperatures: [], candidates: [], error: null, failed: false }),
  initial: "routing",
  states: {
    routing: {
      always: [{ guard: "isCorrection", target: "correcting" }, { target: "generating" }],
    },
    generating: {
      invoke: {
        src: "generateSql",
        input: ({ context }) => ({
          request: context.request,
          generator: context.generator,
          cache: context.cache,
          adapter: context.adapter,
          mode: "answer" as const,
        }),
        onDone: {
          target: "scoring",
          actions: assign({
            completions: ({ event }) => event.output.completions,
            temperatures: ({ event }) => event.output.temperatures,
          }),
        },
        onError: { target: "failed", actions: assign({ error: ({ event }) => event.error, failed: true }) },
      },
    },
    correcting: {
      invoke: {
        src: "correctSql",
        input: ({ context }) => ({
          request: context.request,
          generator: context.generator,
          cache: context.cache,
          adapter: context.adapter,
          mode: "correct" as const,
        }),
        onDone: {
          target: "scoring",
          actions: assign({
            completions: ({ event }) => event.output.completions,
            temperatures: ({ event }) => event.output.temperatures,
          }),
        },
        onError: { target: "failed", actions: assign({ error: ({ event }) => event.error, failed: true }) },
      },
    },
    scoring: {
      always: {
        target: "done",
        actions: assign({
          candidates: ({ context }) =>
            scoreCandidates(context.completions, context.temperatures, context.request.examples),
        }),
      },
    },
    done: { type: "final" },
    failed: { type: "final" },
  },
  output: ({ context }) =>
    context.failed ? { ok: false as const, error: context.error } : { ok: true as const, value: context.candidates },
});

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
