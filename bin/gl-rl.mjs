#!/usr/bin/env node
// The `gl-rl` command. In a checkout, where the TypeScript sources are, it runs them through tsx, so the CLI
// is always the code in the tree (no stale build); an installed package runs the compiled dist/ (no tsx,
// faster to start). See CONTRIBUTING.md "Layout".
import { existsSync } from "node:fs";

const sources = new URL("../cli/main.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  await import("../dist/cli/main.js");
}
