/**
 * One node-llama-cpp `Llama` per GPU choice per process (getLlama is costly and its backends are global).
 * `build: "never"`: a missing GPU build fails fast instead of compiling llama.cpp from source; `gpu:
 * "auto"` falls back to CPU. `maxThreads` = `GL_RL_THREADS` or physical cores (`cpuMathCores`): node-llama-cpp's default
 * (4 on a 2-core machine) made the tiny model decode at 1.8 tok/s instead of 76–148 (docs/ecosystem.md).
 */
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { GlRlError, InputError, ModelError } from "../errors.js";
import { defaultCpuThreads } from "../runtime/environment.js";

/** node-llama-cpp's `gpu` option; "cpu" is the same as false (no GPU build, CPU only). */
export type GpuChoice = "auto" | "cpu" | "cuda" | "vulkan" | "metal" | false;

/** The GPU choices a user can name (CLI `--gpu`, config files). */
export const GPU_CHOICES = ["auto", "cpu", "cuda", "vulkan", "metal"] as const;
export type GpuName = (typeof GPU_CHOICES)[number];

/** A `--gpu` value (default "auto"); InputError naming the choices otherwise. */
export function parseGpuChoice(value: string | undefined, flag = "--gpu"): GpuName {
  if (value === undefined) return "auto";
  if ((GPU_CHOICES as readonly string[]).includes(value)) return value as GpuName;
  throw new InputError(`${flag} must be one of ${GPU_CHOICES.join(", ")}, got '${value}'`, {
    hint: '"auto" uses the best GPU node-llama-cpp finds (else the CPU); "cpu" never touches a GPU',
  });
}

const runtimes = new Map<string, Promise<Llama>>();

/** The shared Llama for a GPU choice. */
export function getLlamaRuntime(choice: GpuChoice = "auto"): Promise<Llama> {
  const gpu = choice === "cpu" ? false : choice;
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
                : `use gpu "auto" or "cpu", or install node-llama-cpp's ${key} build` +
                  (gpu === "vulkan"
                    ? " (a CPU-type Vulkan device such as llvmpipe needs GGML_VK_VISIBLE_DEVICES=0)"
                    : ""),
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
