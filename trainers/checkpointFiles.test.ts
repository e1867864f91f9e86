import { describe, expect, test } from "@jest/globals";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointFiles } from "./checkpointFiles.js";

describe("checkpointFiles", () => {
  test("state.json names the newest policy file; the previous one goes only after it", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "glrl-ckpt-")), "checkpoint");
    const order: string[] = [];
    const policy = {
      async saveCheckpoint(path: string) {
        order.push(
          `${path.slice(dir.length + 1)} (previous still there: ${
            readdirSync(dir)
              .filter((f) => f.endsWith(".ckpt"))
              .join(",") || "none"
          })`,
        );
        writeFileSync(path, "weights");
      },
    };
    const checkpoints = checkpointFiles<{ adapter: string | null }>(dir, policy);
    expect(checkpoints.latest()).toBeNull();
    await checkpoints.save(5, { adapter: "a-5.gguf" });
    await checkpoints.save(10, { adapter: null });
    expect(checkpoints.latest()).toEqual({ step: 10, policy: "policy-10.ckpt", adapter: null });
    expect(checkpoints.policyPath(checkpoints.latest()!)).toBe(join(dir, "policy-10.ckpt"));
    expect(order).toEqual([
      "policy-5.ckpt (previous still there: none)",
      "policy-10.ckpt (previous still there: policy-5.ckpt)",
    ]);
    expect(existsSync(join(dir, "policy-5.ckpt"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["policy-10.ckpt", "state.json"]);
  });

  test("a failed policy save leaves the last complete checkpoint as it was", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "glrl-ckpt-")), "checkpoint");
    let fail = false;
    const policy = {
      async saveCheckpoint(path: string) {
        if (fail) throw new Error("disk full");
        writeFileSync(path, "weights");
      },
    };
    const checkpoints = checkpointFiles<{ seed: number }>(dir, policy);
    await checkpoints.save(3, { seed: 7 });
    fail = true;
    await expect(checkpoints.save(4, { seed: 7 })).rejects.toThrow("disk full");
    expect(checkpoints.latest()).toEqual({ step: 3, policy: "policy-3.ckpt", seed: 7 });
    expect(existsSync(join(dir, "policy-3.ckpt"))).toBe(true);
  });
});
