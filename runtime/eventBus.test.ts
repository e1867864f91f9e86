import { describe, expect, test } from "@jest/globals";
import { createActor, fromPromise, setup } from "xstate";
import { createEventBus, inspectToBus, type AgentEvent } from "./eventBus.js";

describe("EventBus", () => {
  test("emitTimed adds runId, at and elapsedMs since the run began", async () => {
    const bus = createEventBus();
    const seen: AgentEvent<"selected">[] = [];
    bus.on("selected", (e) => seen.push(e));
    bus.beginRun("r1");
    await new Promise((r) => setTimeout(r, 20));
    bus.emitTimed("selected", "r1", { sql: "SELECT 1", confidence: 0.75, votes: 3, candidates: 4 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.runId).toBe("r1");
    expect(seen[0]!.sql).toBe("SELECT 1");
    expect(seen[0]!.elapsedMs).toBeGreaterThanOrEqual(15);
    expect(Math.abs(seen[0]!.at - Date.now())).toBeLessThan(1000);
    bus.endRun("r1");
    bus.emitTimed("progress", "r1", { stage: "x", detail: "y" }); // unknown run: elapsed 0, no crash
  });

  test("inspectToBus turns an actor's snapshots into progress events", async () => {
    const bus = createEventBus();
    const stages: string[] = [];
    bus.on("progress", (e) => stages.push(`${e.stage}:${e.detail}`));
    const machine = setup({ actors: { work: fromPromise(async () => 1) } }).createMachine({
      id: "m",
      initial: "working",
      states: { working: { invoke: { src: "work", onDone: "done" } }, done: { type: "final" } },
    });
    const actor = createActor(machine, { inspect: inspectToBus(bus, "r") });
    const done = new Promise<void>((resolve) => actor.subscribe({ complete: () => resolve() }));
    actor.start();
    await done;
    expect(stages.some((s) => s.includes('"working"'))).toBe(true);
    expect(stages.some((s) => s.includes('"done"'))).toBe(true);
  });
});
