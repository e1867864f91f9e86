/**
 * The time an ask has left, per stage (`Budget`), and the two things every node does with it: runtime call
 * options that carry the time left, and the update of a stage that failed.
 *
 * The facade (orchestrator/text2sqlAgent.ts) puts the ask's deadline — a `performance.now()` time — into
 * `config.configurable.deadline`; a graph run without one (embedded as a subgraph) gives each stage
 * `deps.stageTimeoutMs`. A time-out within the budget is the budget's: `failure` says `code: "timeout"` and
 * the stage.
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { isGlRlError, isTimeoutError, TimeoutError } from "../errors.js";
import type { CallOptions } from "../runtime/actorRuntime.js";
import { inspectToBus } from "../runtime/eventBus.js";
import { emit, messageOf, runIdOf, type GraphDeps } from "./graphDeps.js";
import type { AskError, AskStage, Text2SqlUpdate } from "./text2sqlState.js";

/** The time an ask has left at one stage. */
export class Budget {
  readonly deadline: number;
  constructor(
    readonly stage: AskStage,
    deps: GraphDeps,
    config: LangGraphRunnableConfig,
  ) {
    const deadline = config.configurable?.deadline;
    this.deadline = typeof deadline === "number" ? deadline : performance.now() + deps.stageTimeoutMs;
    deps.stages.set(runIdOf(config), stage);
  }
  get leftMs(): number {
    return Math.floor(this.deadline - performance.now());
  }
  get spent(): boolean {
    return this.leftMs < 1;
  }
  /** The AskError of a budget that ran out in this stage. */
  ranOut(): AskError {
    return { stage: this.stage, code: "timeout", message: `the ask's time budget ran out during ${this.stage}` };
  }
  /** `promise`, or a TimeoutError when the budget runs out first (for awaits outside the runtime). */
  within<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(this.ranOut().message)), Math.max(0, this.leftMs));
    });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }
  /** An error as this stage's AskError (a time-out within the budget is the budget's). */
  failure(error: unknown, what: string): AskError {
    if (isTimeoutError(error) && this.spent) return this.ranOut();
    const hint = isGlRlError(error) && error.hint ? ` (hint: ${error.hint})` : "";
    const code = isGlRlError(error) ? error.code : "error";
    return { stage: this.stage, code, message: `${what}: ${messageOf(error)}${hint}` };
  }
}

/** Runtime call options: the run's signal, the time left, inspection when someone listens. */
export function callOptions(deps: GraphDeps, config: LangGraphRunnableConfig, id: string, budget: Budget): CallOptions {
  return {
    id,
    timeoutMs: Math.max(1, budget.leftMs),
    ...(config.signal ? { signal: config.signal } : {}),
    ...(deps.bus.listenerCount("progress") > 0 ? { inspect: inspectToBus(deps.bus, runIdOf(config)) } : {}),
  };
}

/** A node's update when its stage fails. */
export function failed(deps: GraphDeps, config: LangGraphRunnableConfig, failure: AskError): Text2SqlUpdate {
  emit(deps, config, "failed", { stage: failure.stage, error: failure.message });
  return { failure };
}
