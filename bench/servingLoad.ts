/**
 * Serving many users (docs/serving.md, "Serving many users"): one llama-server (the demo model), two
 * `gl-rl mcp --http` processes on it sharing one checkpointer, `--asks` concurrent `ask` calls through the MCP SDK
 * client; then llama-server killed under a burst of 16 and restarted on its port. Prints the report as JSON.
 *
 * `npx tsx bench/servingLoad.ts [--asks 50] [--checkpointer memory|postgres://…|pglite:<dir>]`
 * (llama-server is built on first use: scripts/buildLlamaServer.mjs, ~15 minutes once.)
 */
import { runServingLoad } from "../test/servingLoad.js";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const report = await runServingLoad({
  asks: Number(option("--asks") ?? 50),
  checkpointer: option("--checkpointer") ?? process.env.GLRL_TEST_PG_URL ?? "memory",
});
console.log(JSON.stringify(report, null, 2));
