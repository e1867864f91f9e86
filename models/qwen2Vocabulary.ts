/**
 * The real Qwen2 tokenizer (151,936 tokens, 151,387 merges, pre-tokenizer "qwen2"), taken from
 * `models/ggml-vocab-qwen2.gguf` in the llama.cpp git bundle that node-llama-cpp ships
 * (`node_modules/node-llama-cpp/llama/gitRelease.bundle`) — never from the network.
 *
 * Extraction: `git init --bare <tmp>`, `git fetch <bundle> HEAD`, `git show FETCH_HEAD:<file>` (~1 s),
 * cached as `$GL_RL_CACHE_DIR/ggml-vocab-qwen2-<bundle rev>.gguf` (default cache dir ~/.cache/gl-rl).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelError } from "../errors.js";
import { cacheDir } from "../runtime/environment.js";
import { readGguf, type GgufFile } from "./ggufFile.js";

export interface Qwen2Vocabulary {
  /** Token strings in GPT-2 byte-level encoding ("Ġ" = a leading space), [n_vocab]. */
  tokens: string[];
  /** llama.cpp token types: 1 normal, 3 control, 4 user-defined…, [n_vocab]. */
  tokenTypes: number[];
  /** "a b" merge rules in rank order. */
  merges: string[];
  /** The chat template (ChatML). */
  chatTemplate: string;
  /** Path of the cached vocabulary GGUF. */
  path: string;
}

function bundlePath(): string {
  // node-llama-cpp's exports hide package.json: look in each node_modules folder Node would search.
  const require = createRequire(import.meta.url);
  const candidates = (require.resolve.paths("node-llama-cpp") ?? []).map((dir) =>
    join(dir, "node-llama-cpp", "llama", "gitRelease.bundle"),
  );
  return (
    candidates.find((p) => existsSync(p)) ?? candidates[0] ?? "node_modules/node-llama-cpp/llama/gitRelease.bundle"
  );
}

/** Extracts (once) and returns the path of ggml-vocab-qwen2.gguf from node-llama-cpp's llama.cpp bundle. */
export function qwen2VocabularyPath(): string {
  const bundle = bundlePath();
  if (!existsSync(bundle)) {
    throw new ModelError("model.vocabMissing", `node-llama-cpp's llama.cpp bundle is missing: ${bundle}`, {
      hint: "reinstall node-llama-cpp 3.22.1 (its npm package ships llama/gitRelease.bundle)",
      context: { file: bundle },
    });
  }
  let rev: string;
  try {
    rev = execFileSync("git", ["bundle", "list-heads", bundle], { encoding: "utf8" }).split(/\s+/)[0] ?? "unknown";
  } catch (error) {
    throw new ModelError("model.vocabMissing", `cannot read the llama.cpp bundle ${bundle} with git`, {
      hint: "install git (the Qwen2 vocabulary is extracted from the bundle with it)",
      context: { file: bundle },
      cause: error,
    });
  }
  const dir = cacheDir();
  const out = join(dir, `ggml-vocab-qwen2-${rev.slice(0, 12)}.gguf`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const repo = mkdtempSync(join(tmpdir(), "gl-rl-bundle-"));
  try {
    execFileSync("git", ["init", "-q", "--bare", repo]);
    execFileSync("git", ["-C", repo, "fetch", "-q", bundle, "HEAD"]);
    const bytes = execFileSync("git", ["-C", repo, "show", "FETCH_HEAD:models/ggml-vocab-qwen2.gguf"], {
      maxBuffer: 64 << 20,
    });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, out);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
  return out;
}

/** Loads the full Qwen2 vocabulary (≈0.2 s once extracted). */
export function loadQwen2Vocabulary(): Qwen2Vocabulary {
  const path = qwen2VocabularyPath();
  const file: GgufFile = readGguf(path);
  const arr = (key: string): unknown[] => {
    const v = file.metadata.get(key);
    if (v?.type !== "array")
      throw new ModelError("model.vocabCorrupt", `${path} lacks ${key}`, {
        hint: `delete ${path} to re-extract it`,
        context: { file: path },
      });
    return v.value;
  };
  const tmpl = file.metadata.get("tokenizer.chat_template");
  return {
    tokens: arr("tokenizer.ggml.tokens") as string[],
    tokenTypes: arr("tokenizer.ggml.token_type") as number[],
    merges: arr("tokenizer.ggml.merges") as string[],
    chatTemplate: tmpl?.type === "string" ? tmpl.value : "",
    path,
  };
}
