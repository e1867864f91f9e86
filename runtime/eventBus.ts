/**
 * The typed event bus (eventemitter3) that carries an ask's progress and telemetry.
 *
 * Every event has `runId` (one ask), `at` (epoch ms) and `elapsedMs` (since the run's `started`), so a
 * listener can draw a timeline without keeping state. XState `inspect` events of the agent actors reach
 * the bus as `progress` events (`inspectToBus`).
 *
 * @example
 * const bus = createEventBus();
 * bus.on("selected", (e) => console.log(e.sql, e.confidence, `${e.elapsedMs} ms`));
 */
import { EventEmitter } from "eventemitter3";
import type { InspectionEvent } from "xstate";

/** Fields every event carries. */
export interface EventTiming {
  runId: string;
  /** Epoch milliseconds. */
  at: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

/** Event name → payload (without the timing fields, which `emitTimed` adds). */
export interface AgentEventPayloads {
  started: { question: string; threadId: string | null };
  candidate_generated: {
    index: number;
    sql: string | null;
    confidence: number;
    temperature: number | null;
    durationMs: number;
  };
  validated: { index: number; sql: string; valid: boolean; errors: string[]; durationMs: number };
  executed: { index: number; sql: string; ok: boolean; rowCount: number; error: string | null; durationMs: number };
  selected: { sql: string | null; confidence: number; votes: number; candidates: number };
  corrected: { attempt: number; failedSql: string; error: string; sql: string | null };
  failed: { stage: string; error: string };
  progress: { stage: string; detail: string };
}

export type AgentEventName = keyof AgentEventPayloads;
export type AgentEvent<K extends AgentEventName = AgentEventName> = AgentEventPayloads[K] & EventTiming;

/** eventemitter3's typed listener map. */
export type AgentEventListeners = { [K in AgentEventName]: (event: AgentEvent<K>) => void };

/** The bus: an EventEmitter with typed events plus `emitTimed`. */
export class EventBus extends EventEmitter<AgentEventListeners> {
  private readonly starts = new Map<string, number>();

  /** Marks a run's start (its `elapsedMs` origin). Call before emitting `started`. */
  beginRun(runId: string): void {
    this.starts.set(runId, Date.now());
  }

  /** Forgets a finished run's start time (bounded memory). */
  endRun(runId: string): void {
    this.starts.delete(runId);
  }

  /** Emits an event with its timing fields filled in. */
  emitTimed<K extends AgentEventName>(name: K, runId: string, payload: AgentEventPayloads[K]): void {
    const at = Date.now();
    const start = this.starts.get(runId) ?? at;
    const event = { ...payload, runId, at, elapsedMs: at - start } as AgentEvent<K>;
    (this.emit as (n: K, e: AgentEvent<K>) => boolean)(name, event);
  }
}

/** A new bus. */
export function createEventBus(): EventBus {
  return new EventBus();
}

/**
 * An XState `inspect` callback that forwards actor lifecycle and transitions as `progress` events.
 * @example
 * createActor(machine, { inspect: inspectToBus(bus, runId) });
 */
export function inspectToBus(bus: EventBus, runId: string): (event: InspectionEvent) => void {
  return (event) => {
    if (bus.listenerCount("progress") === 0) return;
    if (event.type === "@xstate.snapshot") {
      const snapshot = event.snapshot as { value?: unknown; status?: string };
      const stage = (event.actorRef as { id?: string }).id ?? "actor";
      const detail = snapshot.value === undefined ? String(snapshot.status) : JSON.stringify(snapshot.value);
      bus.emitTimed("progress", runId, { stage, detail });
    }
  };
}
