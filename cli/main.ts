/**
 * `gl-rl` — the command line. Each command lives in `cli/commands/<name>.ts` and exports
 * `run(argv: string[]): Promise<number>` (the exit code). Exit codes: 0 ok; 1 the query/task failed
 * (invalid, refused, no match where one was required); 2 unusable input (one-line message on stderr).
 */
import { isGlRlError, isInputError } from "../errors.js";

interface CommandEntry {
  /** Words that select it: `db init`, `validate`… */
  words: string[];
  /** Module under cli/commands/ (without extension). */
  module: string;
  summary: string;
}

const COMMANDS: CommandEntry[] = [
  { words: ["db", "init"], module: "dbInit", summary: "create and seed the demo database: --db pglite:<dir>" },
  { words: ["validate"], module: "validate", summary: 'validate SQL: --sql "…" | --file in.jsonl [--db …] [--json]' },
  { words: ["exec"], module: "exec", summary: 'execute SQL sandboxed: --sql "…" | --file in.jsonl [--db …] [--json]' },
  { words: ["compare"], module: "compare", summary: 'compare results: --gold "…" --candidate "…" | --file in.jsonl' },
  { words: ["data", "stats"], module: "dataStats", summary: "dataset counts per split, difficulty and table [--json]" },
  {
    words: ["data", "augment"],
    module: "dataAugment",
    summary: "literal-swapped pairs from the database's values: --out <file.jsonl>",
  },
  {
    words: ["model", "tiny"],
    module: "modelTiny",
    summary: "write the tiny Qwen2-architecture GGUF: --out <file.gguf>",
  },
  {
    words: ["model", "demo"],
    module: "modelDemo",
    summary: "write the demo model tagged with its recipe key: --out <file.gguf> [--precision q8_0|f16|f32]",
  },
  { words: ["train", "sft"], module: "trainSft", summary: "supervised fine-tuning: --config <file>" },
  {
    words: ["train", "grpo"],
    module: "trainGrpo",
    summary: "GRPO on LoRA: [--config <file>] [--max-steps N] [--max-minutes M] [--out <dir>]",
  },
  {
    words: ["eval"],
    module: "evaluate",
    summary: "execution accuracy: --split dev|test [--model …] [--adapter …] [--json]",
  },
  { words: ["ask"], module: "ask", summary: 'ask a question: "…" [--model <gguf|hf:…>] [--db …] [--json]' },
  {
    words: ["mcp"],
    module: "mcp",
    summary: "the agent and SQL tools as an MCP server: stdio, or --http <port> [--model …] [--db …]",
  },
  { words: ["plot"], module: "plot", summary: "render training curves: <metrics.jsonl> [--out file.svg|.html]" },
];

function usage(): string {
  const lines = COMMANDS.map((c) => `  gl-rl ${c.words.join(" ").padEnd(12)} ${c.summary}`);
  return ["usage: gl-rl <command> [options]", "", ...lines].join("\n");
}

function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  const matches = COMMANDS.filter((c) => c.words.every((w, i) => argv[i] === w));
  const entry = matches.sort((a, b) => b.words.length - a.words.length)[0];
  return entry && { entry, rest: argv.slice(entry.words.length) };
}

/** Prints an error on one line (with its hint) and returns the exit code it deserves. */
export function reportError(error: unknown): number {
  if (isGlRlError(error)) {
    process.stderr.write(`gl-rl: ${error.message}${error.hint ? ` (hint: ${error.hint})` : ""}\n`);
    return isInputError(error) ? 2 : 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gl-rl: ${message.split("\n")[0]}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(`${usage()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`gl-rl: unknown command '${argv.join(" ")}'\n${usage()}\n`);
    return 2;
  }
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const moduleUrl = new URL(`./commands/${found.entry.module}${extension}`, import.meta.url).href;
  try {
    const command = (await import(moduleUrl)) as { run(argv: string[]): Promise<number> };
    return await command.run(found.rest);
  } catch (error) {
    return reportError(error);
  }
}

const exitCode = await main(process.argv.slice(2));
// Let stdout drain before exiting; native handles (PGlite workers, llama contexts) must not keep us alive.
process.exitCode = exitCode;
setImmediate(() => process.exit(exitCode));
