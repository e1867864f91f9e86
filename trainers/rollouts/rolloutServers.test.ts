/**
 * The rollout servers' bookkeeping without a server: model ids, the preset file, and what a server that is not a
 * llama-server router is told (a loopback stub answering as vLLM and as an unknown server).
 */
import { describe, expect, test } from "@jest/globals";
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import { startStubHttpServer } from "../../test/stubHttpServer.js";
import { openRolloutServers, rolloutModelId, rolloutPreset } from "./rolloutServers.js";

describe("rollout servers", () => {
  test("a version's model id is a function of its path; the preset holds that one section", () => {
    expect(rolloutModelId(null)).toBe("gl-rl-base");
    const id = rolloutModelId("runs/grpo/adapters/adapter-3.gguf");
    expect(id).toMatch(/^gl-rl-adapter-3-[0-9a-f]{8}$/);
    expect(rolloutModelId(resolve("runs/grpo/adapters/adapter-3.gguf"))).toBe(id);
    expect(rolloutModelId("runs/other/adapters/adapter-3.gguf")).not.toBe(id);
    const preset = rolloutPreset("base.gguf", "runs/grpo/adapters/adapter-3.gguf");
    expect(preset).toContain(
      `[${id}]\nmodel = ${resolve("base.gguf")}\nlora = ${resolve("runs/grpo/adapters/adapter-3.gguf")}\n`,
    );
    expect(preset.match(/^\[/gm)).toHaveLength(1);
    expect(rolloutPreset("base.gguf", null)).not.toContain("lora");
  });

  test.each([
    ["vllm", /owned by 'vllm'/, /vLLM loads PEFT adapters, not gl-rl's GGUF ones/],
    ["someone", /owned by 'someone'/, /^start llama-server in router mode: llama-server --models-preset/],
  ])("a %s server is refused with what to start instead", async (owner, message, hint) => {
    const stub = await startStubHttpServer(() => ({
      status: 200,
      body: JSON.stringify({ data: [{ id: "Qwen/Qwen2.5-0.5B", owned_by: owner }] }),
    }));
    try {
      const error = await openRolloutServers({ urls: [stub.url], presetPath: "r.ini", baseModel: "b.gguf" }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(message);
      expect((error as InputError).hint).toMatch(hint);
      expect((error as InputError).hint).toContain(`--models-preset ${resolve("r.ini")}`);
    } finally {
      await stub.close();
    }
  });

  test("no URL, or no preset file, is an InputError before any request", async () => {
    await expect(openRolloutServers({ urls: [], presetPath: "r.ini", baseModel: "b.gguf" })).rejects.toThrow(
      /no URL given/,
    );
    await expect(
      openRolloutServers({ urls: ["http://127.0.0.1:9"], presetPath: "", baseModel: "b.gguf" }),
    ).rejects.toThrow(/need the preset file they were started with/);
  });
});
