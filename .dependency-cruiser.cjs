/**
 * The one-way dependency rule (docs/architecture.md "Dependencies run one way"), checked by `npm run lint:deps`
 * (part of `npm test`). Layers, lowest first; a folder imports only folders below it:
 *
 *   errors.ts → runtime/ → sql/ → data/ → models/ → task/ → rewards/ → agents/ → orchestrator/
 *                                                                       └──────→ trainers/
 *   task/ is the text-to-SQL task definition (question + evidence + database → prompt), shared by the
 *   orchestrator and the trainers so that a model is trained on exactly what it is asked.
 *   integrations/ (the MCP server, the LangChain tool) sits beside orchestrator/ and may import it; only cli/ and
 *   the entry points import integrations/.
 *   cli/ and the entry points (index.ts, sql.ts, train.ts, models.ts) sit on top; examples/ import only the
 *   entry points; bench/ and tests may import anything below them; nothing imports bench/ or examples/.
 *
 * sql/ opens the demo database, whose content (schema + seed rows) lives in data/: sql/ may import exactly
 * data/seedDemoDatabase.ts, which imports nothing of ours, so no cycle can form through it.
 */
const layer = (from, allowed) => ({
  name: `layer-${from}`,
  comment: `${from}/ may import only ${allowed.join(", ")} (docs/architecture.md)`,
  severity: "error",
  from: { path: `^${from}/`, pathNot: "\\.test\\.ts$" },
  to: {
    path: "^(errors\\.ts|index\\.ts|sql\\.ts|train\\.ts|models\\.ts|runtime|sql|data|models|task|rewards|agents|orchestrator|integrations|trainers|cli|bench|examples|test)(/|$)",
    pathNot: `^(${allowed.map((a) => a.replace(".", "\\.")).join("|")})(/|$)`,
  },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "a cycle makes two modules one; break it by moving the shared piece down a layer",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "errors-is-the-base",
      comment: "errors.ts is the lowest layer and imports nothing of ours",
      severity: "error",
      from: { path: "^errors\\.ts$" },
      to: { path: "^(runtime|sql|data|models|task|rewards|agents|orchestrator|trainers|cli)/" },
    },
    layer("runtime", ["errors.ts", "runtime"]),
    {
      ...layer("sql", ["errors.ts", "runtime", "sql", "data/seedDemoDatabase.ts"]),
    },
    layer("data", ["errors.ts", "runtime", "sql", "data"]),
    layer("models", ["errors.ts", "runtime", "models"]),
    layer("task", ["errors.ts", "runtime", "sql", "data", "models", "task"]),
    layer("rewards", ["errors.ts", "runtime", "sql", "rewards"]),
    layer("agents", ["errors.ts", "runtime", "sql", "models", "task", "rewards", "agents"]),
    layer("orchestrator", ["errors.ts", "runtime", "sql", "models", "task", "rewards", "agents", "orchestrator"]),
    layer("integrations", ["errors.ts", "runtime", "sql", "models", "task", "agents", "orchestrator", "integrations"]),
    layer("trainers", ["errors.ts", "runtime", "sql", "data", "models", "task", "rewards", "trainers"]),
    layer("cli", [
      "errors.ts",
      "runtime",
      "sql",
      "data",
      "models",
      "task",
      "rewards",
      "agents",
      "orchestrator",
      "integrations",
      "trainers",
      "cli",
    ]),
    {
      name: "examples-use-the-public-api",
      comment: "examples/ import only the package's entry points (index.ts, sql.ts, train.ts, models.ts)",
      severity: "error",
      from: { path: "^examples/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(runtime|sql|data|models|task|rewards|agents|orchestrator|integrations|trainers|cli|bench|test)/" },
    },
    {
      name: "nothing-imports-bench-or-examples",
      comment: "bench/ and examples/ are leaves: scripts that use the library",
      severity: "error",
      from: { pathNot: "^(bench|examples)/" },
      to: { path: "^(bench|examples)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|trainers/native/(build|vendor))/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
