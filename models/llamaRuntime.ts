/**
 * One node-llama-cpp `Llama` per GPU choice per process (getLlama is costly and its backends are global).
 * `build: "never"`: a missing GPU build fails fast instead of compiling llama.cpp from source; `gpu:
 * "auto"` falls back to CPU. `maxThreads` = `GL_RL_THREADS` or physical cores (`cpuMathCores`): node-llama-cpp's default
 * (4 on a 2-core machine) made the tiny model decode at 1.8 tok/s instead of 76–148 (docs/ecosystem.md).
 */
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { GlRlError, ModelError } from "../errors.js";
import { defaultCpuThreads } from "../runtime/environment.js";

export type GpuChoice = "auto" | "cuda" | "vulkan" | "metal" | false;

const runtimes = new Map<string, Promise<Llama>>();

/** The shared Llama for a GPU choice. */
export function getLlamaRuntime(gpu: GpuChoice = "auto"): Promise<Llama> {
  const key = String(gpu);
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = (async () => {
      try {
        const llama = await getLlama({ gpu, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
        llama.maxThreads = defaultCpuThreads(llama.cpuMathCores);
        return llama;
      } catch (error) {
        runtimes.delete(key);
        if (error instanceof GlRlError) throw error;
        throw new ModelError(
          "model.backend",
          `node-llama-cpp could not start with gpu: ${key}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
          {
            hint:
              gpu === false || gpu === "auto"
                ? "reinstall node-llama-cpp (npm install)"
                : `use gpu: "auto" or false, or install node-llama-cpp's ${key} build`,
            context: { gpu: key },
            cause: error,
          },
        );
      }
    })();
    runtimes.set(key, runtime);
  }
  return runtime;
}
