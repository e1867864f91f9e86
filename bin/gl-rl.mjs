#!/usr/bin/env node
// The `gl-rl` command. It runs the TypeScript sources through tsx, so the checkout's CLI is always
// the code in the tree (no stale build).
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
