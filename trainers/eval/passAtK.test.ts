import { describe, expect, test } from "@jest/globals";
import { passAtK } from "./passAtK.js";

/** C(n, k) by brute force, for the reference 1 − C(n−c, k)/C(n, k). */
const choose = (n: number, k: number): number => (k < 0 || k > n ? 0 : k === 0 ? 1 : (choose(n - 1, k - 1) * n) / k);

describe("passAtK", () => {
  test.each([
    [16, 4, 1, 0.25],
    [16, 0, 8, 0],
    [16, 16, 1, 1],
    [8, 1, 8, 1],
    [2, 1, 1, 0.5],
    [4, 1, 2, 0.5],
  ])("n=%i c=%i k=%i → %f", (n, c, k, expected) => {
    expect(passAtK(n, c, k)).toBeCloseTo(expected, 12);
  });

  test("equals 1 − C(n−c,k)/C(n,k) and grows with k", () => {
    for (const [n, c] of [
      [20, 3],
      [32, 1],
      [10, 9],
    ] as const) {
      let previous = 0;
      for (let k = 1; k <= n; k++) {
        const p = passAtK(n, c, k);
        expect(p).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 10);
        expect(p).toBeGreaterThanOrEqual(previous);
        previous = p;
      }
    }
  });

  test("rejects impossible counts", () => {
    expect(() => passAtK(8, 9, 1)).toThrow(/0 ≤ c ≤ n/);
    expect(() => passAtK(8, 2, 9)).toThrow(/1 ≤ k ≤ n/);
  });
});
