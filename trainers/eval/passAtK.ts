/**
 * pass@k, the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on Code"):
 * with n samples of which c are correct, the chance that at least one of k samples drawn without
 * replacement is correct, 1 − C(n−c, k) / C(n, k), computed as a product to stay exact for large n.
 * RL from sampled rewards (GRPO) sharpens what sampling already finds: pass@k of the starting model at the
 * sampling temperature bounds what the greedy policy can reach by reweighting alone (bench/passAtK.ts).
 *
 * @example
 * passAtK(16, 4, 1); // 0.25
 * passAtK(16, 0, 8); // 0
 */
export function passAtK(n: number, c: number, k: number): number {
  if (
    !Number.isInteger(n) ||
    !Number.isInteger(c) ||
    !Number.isInteger(k) ||
    n < 1 ||
    c < 0 ||
    c > n ||
    k < 1 ||
    k > n
  ) {
    throw new RangeError(`passAtK: need integers 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n=${n}, c=${c}, k=${k}`);
  }
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}
