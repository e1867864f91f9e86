/**
 * The text-to-SQL graph: a LangGraph StateGraph whose nodes (orchestrator/text2sqlNodes.ts,
 * orchestrator/answerNode.ts) hand their work to agent actors.
 *
 *   START ─▶ link ─▶ generate ─▶ validate ─▶ execute ─▶ select ─┬─▶ respond ─▶ END
 *             │         │           ▲                           │
 *             │         │           └───────── correct ◀────────┘ (no candidate ran; ≤ maxCorrections)
 *             └─────────┴──────────────────────────────────────────▶ respond   (a stage failed: `failure`)
 *
 * Routers, named for what they ask: `afterLink` and `afterGenerate` (did the stage fail?), `afterExecute`
 * (did the database or the budget fail?), `afterSelect` (a winner, a failure, or a correction to try?),
 * `afterCorrect` (did the correction fail?). Any failure goes straight to respond, which answers with it.
 * The state (orchestrator/text2sqlState.ts) is checkpointed by the given checkpointer; the graph can stop
 * before `execute` (`interruptBeforeExecute`) for a human to review the candidates.
 */
import { END, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { nextTurn } from "../task/correctionLoop.js";
import { answerNode, selectNode, worstFailure } from "./answerNode.js";
import type { GraphDeps } from "./graphDeps.js";
import { correctNode, executeNode, generateNode, linkNode, validateNode } from "./text2sqlNodes.js";
import { Text2SqlState, type Text2SqlStateType } from "./text2sqlState.js";

export const afterLink = (s: Text2SqlStateType): "respond" | "generate" => (s.failure ? "respond" : "generate");
export const afterGenerate = (s: Text2SqlStateType): "respond" | "validate" => (s.failure ? "respond" : "validate");
export const afterValidate = (s: Text2SqlStateType): "respond" | "execute" => (s.failure ? "respond" : "execute");
export const afterExecute = (s: Text2SqlStateType): "respond" | "select" => (s.failure ? "respond" : "select");
export const afterCorrect = (s: Text2SqlStateType): "respond" | "validate" => (s.failure ? "respond" : "validate");

/**
 * A stage failure answers; otherwise the loop's stop rule (task/correctionLoop.ts `nextTurn`, which GRPO's
 * episodes follow too): a winner answers, else a correction round when one is left and something failed.
 */
export function afterSelect(maxCorrections: number): (s: Text2SqlStateType) => "respond" | "correct" {
  return (s) => {
    if (s.failure) return "respond";
    const turn = nextTurn({
      answered: s.vote?.winner !== null,
      failure: worstFailure(s),
      turn: s.attempt + 1,
      maxTurns: maxCorrections + 1,
    });
    return turn === "correct" ? "correct" : "respond";
  };
}

/** Builds and compiles the graph over the agent's dependencies. */
export function buildText2SqlGraph(
  deps: GraphDeps,
  options: { checkpointer: BaseCheckpointSaver; interruptBeforeExecute: boolean },
) {
  return new StateGraph(Text2SqlState)
    .addNode("link", (s, c) => linkNode(deps, s, c))
    .addNode("generate", (s, c) => generateNode(deps, s, c))
    .addNode("validate", (s, c) => validateNode(deps, s, c))
    .addNode("execute", (s, c) => executeNode(deps, s, c))
    .addNode("select", (s) => selectNode(s))
    .addNode("correct", (s, c) => correctNode(deps, s, c))
    .addNode("respond", (s, c) => answerNode(deps, s, c))
    .addEdge(START, "link")
    .addConditionalEdges("link", afterLink, ["respond", "generate"])
    .addConditionalEdges("generate", afterGenerate, ["respond", "validate"])
    .addConditionalEdges("validate", afterValidate, ["respond", "execute"])
    .addConditionalEdges("execute", afterExecute, ["respond", "select"])
    .addConditionalEdges("select", afterSelect(deps.maxCorrections), ["respond", "correct"])
    .addConditionalEdges("correct", afterCorrect, ["respond", "validate"])
    .addEdge("respond", END)
    .compile({
      checkpointer: options.checkpointer,
      ...(options.interruptBeforeExecute ? { interruptBefore: ["execute" as const] } : {}),
    });
}

/** The compiled text-to-SQL graph. */
export type Text2SqlGraph = ReturnType<typeof buildText2SqlGraph>;
