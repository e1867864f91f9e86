import { describe, expect, it } from "@jest/globals";
import { createProgressBar, formatDuration } from "./progressBar.js";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    chunks,
    isTTY,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream & { isTTY: boolean; chunks: string[] };
}

describe("progressBar", () => {
  it("formats durations", () => {
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(125)).toBe("2m05s");
    expect(formatDuration(3 * 3600 + 60)).toBe("3h01m");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("?");
  });

  it("writes one line per 10 % off a TTY, with counts and an ETA", () => {
    const out = sink(false);
    const bar = createProgressBar("sft", 20, { stream: out });
    for (let i = 1; i <= 20; i += 1) bar.update(i, `loss ${i}`);
    bar.finish();
    expect(out.chunks.length).toBe(11 + 1);
    expect(out.chunks[0]).toMatch(/^sft \[#\.{19}\] 1\/20 5% ETA \S+ loss 1\n$/);
    expect(out.chunks.at(-1)).toMatch(/20\/20 100%/);
  });

  it("rewrites in place on a TTY", () => {
    const out = sink(true);
    createProgressBar("grpo", 4, { stream: out }).update(2);
    expect(out.chunks[0]).toMatch(/^\rgrpo \[#{10}\.{10}\] 2\/4 50%/);
  });
});
