import { afterEach, describe, expect, test } from "@jest/globals";
import { defaultCpuThreads } from "./cpuThreads.js";

const saved = process.env.GLRL_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.GLRL_THREADS;
  else process.env.GLRL_THREADS = saved;
});

describe("defaultCpuThreads", () => {
  test("GLRL_THREADS wins over the physical cores; unset or empty gives the cores", () => {
    process.env.GLRL_THREADS = "3";
    expect(defaultCpuThreads(8)).toBe(3);
    delete process.env.GLRL_THREADS;
    expect(defaultCpuThreads(8)).toBe(8);
    expect(defaultCpuThreads()).toBeGreaterThanOrEqual(1);
    process.env.GLRL_THREADS = " ";
    expect(defaultCpuThreads(6)).toBe(6);
  });

  test.each(["0", "-2", "1.5", "two"])("GLRL_THREADS=%s is refused with the fix", (value) => {
    process.env.GLRL_THREADS = value;
    expect(() => defaultCpuThreads(4)).toThrow(expect.objectContaining({ code: "input", message: `GLRL_THREADS must be a positive integer, got "${value}"` }));
  });
});
