/**
 * `gl-rl` — ask questions about a PostgreSQL database; a team of agents answers with validated SQL, executed
 * sandboxed. The other entry points: `gl-rl/sql` (the SQL toolkit), `gl-rl/train` (SFT, GRPO, evaluation,
 * rewards), `gl-rl/models` (models, prompts, LoRA adapters). Everything public is named here or there.
 *
 * @example
 * import { createText2SqlAgent, ensureDemoModel } from "gl-rl";
 *
 * const agent = await createText2SqlAgent({ model: await ensureDemoModel(), db: "demo" });
 * const answer = await agent.ask("Show all active projects with budget over 100000");
 * console.log(answer.sql, answer.rows, answer.confidence);
 * await agent.close();
 */

// The agent: createText2SqlAgent({ model, db }) → agent.ask(question) → { sql, rows, confidence, explanation, warnings }.
// agent.graph is the compiled LangGraph graph (a subgraph for your own app); agent.events the event bus.
export { createText2SqlAgent } from "./orchestrator/text2sqlAgent.js";
export type { AskOptions, Text2SqlAgent, Text2SqlAgentOptions } from "./orchestrator/text2sqlAgent.js";
export type { Text2SqlAnswer } from "./orchestrator/text2sqlState.js";
export type { Text2SqlGraph } from "./orchestrator/text2sqlGraph.js";
// The agent as a LangChain tool (a zod schema { question, evidence? }; answers with the ask JSON).
export { createText2SqlTool } from "./integrations/text2sqlTool.js";
export type { Text2SqlToolOptions } from "./integrations/text2sqlTool.js";
// What agent.events emits: started, candidate_generated, validated, executed, selected, corrected, failed, progress.
export type { AgentEvent, AgentEventName, EventBus } from "./runtime/eventBus.js";

// The model to ask with when you have none: the tiny demo model (shipped with the package; built once
// and cached when its recipe changed).
export { ensureDemoModel } from "./trainers/demoModel.js";
export type { EnsureDemoModelOptions } from "./trainers/demoModel.js";

// Errors: one base class (message + hint + context), a family under it, a type guard for each.
export {
  AbortError,
  DatabaseError,
  GlRlError,
  InputError,
  ModelError,
  NativeError,
  SqlRefusedError,
  TimeoutError,
  isAbortError,
  isDatabaseError,
  isGlRlError,
  isInputError,
  isModelError,
  isNativeError,
  isSqlRefusedError,
  isTimeoutError,
} from "./errors.js";
export type { GlRlErrorOptions } from "./errors.js";
