import { afterEach, describe, expect, test } from "@jest/globals";
import { InputError } from "../errors.js";
import { openAiApiKey } from "./openAiRequest.js";
import { isOpenAiModelSpec, parseOpenAiUrl } from "./openAiTextGenerator.js";
import { openTextGenerator } from "./openTextGenerator.js";

describe("openai: model specs", () => {
  test("a bare server URL gets the /v1 API root; a given path is kept; #<id> names the model", () => {
    expect(parseOpenAiUrl("openai:http://127.0.0.1:8080")).toEqual({
      baseUrl: "http://127.0.0.1:8080/v1",
      model: undefined,
    });
    expect(parseOpenAiUrl("openai:http://127.0.0.1:8080/")).toEqual({
      baseUrl: "http://127.0.0.1:8080/v1",
      model: undefined,
    });
    expect(parseOpenAiUrl("openai:https://host/api/openai/v1/")).toEqual({
      baseUrl: "https://host/api/openai/v1",
      model: undefined,
    });
    expect(parseOpenAiUrl("openai:http://h:8000/v1#Qwen/Qwen2.5-Coder-1.5B")).toEqual({
      baseUrl: "http://h:8000/v1",
      model: "Qwen/Qwen2.5-Coder-1.5B",
    });
    expect(parseOpenAiUrl("http://h:8000/v1")).toEqual({ baseUrl: "http://h:8000/v1", model: undefined });
  });

  test("only openai: values are remote; a value that is not an http(s) URL is an InputError with a hint", async () => {
    expect(isOpenAiModelSpec("openai:http://x")).toBe(true);
    expect(isOpenAiModelSpec("data/demo-model.gguf")).toBe(false);
    expect(isOpenAiModelSpec("hf:Qwen/x.gguf")).toBe(false);
    for (const bad of ["openai:", "openai:localhost:8080", "openai:ftp://h/v1"]) {
      let error: unknown;
      try {
        parseOpenAiUrl(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).hint).toMatch(/openai:http:\/\/127\.0\.0\.1/);
    }
  });

  test("--adapter with a remote model is refused before any request", async () => {
    await expect(openTextGenerator({ model: "openai:http://127.0.0.1:9/v1", adapter: "a.gguf" })).rejects.toThrow(
      /--adapter cannot be applied to the remote model/,
    );
  });
});

describe("the API key", () => {
  const saved = { gl: process.env.GL_RL_OPENAI_API_KEY, openai: process.env.OPENAI_API_KEY };
  afterEach(() => {
    for (const [name, value] of [
      ["GL_RL_OPENAI_API_KEY", saved.gl],
      ["OPENAI_API_KEY", saved.openai],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test("GL_RL_OPENAI_API_KEY first, then OPENAI_API_KEY, else none", () => {
    delete process.env.GL_RL_OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    expect(openAiApiKey()).toBeUndefined();
    process.env.OPENAI_API_KEY = "sk-openai";
    expect(openAiApiKey()).toBe("sk-openai");
    process.env.GL_RL_OPENAI_API_KEY = "sk-gl-rl";
    expect(openAiApiKey()).toBe("sk-gl-rl");
    process.env.GL_RL_OPENAI_API_KEY = "  ";
    expect(openAiApiKey()).toBe("sk-openai");
  });
});
