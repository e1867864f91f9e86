import { describe, expect, test } from "@jest/globals";
import { FakePolicy } from "./fakePolicy.js";
import type { TokenSequence } from "./policyBackend.js";

const batch: TokenSequence[] = [{ tokens: [0, 1, 2, 1], completionStart: 1 }];
const coefficients = [new Float32Array([0.5, -1, 2])];

async function objective(policy: FakePolicy, temperature: number): Promise<number> {
  const [lp] = await policy.logprobs(batch, { temperature });
  return lp!.reduce((a, x, t) => a + x * coefficients[0]![t]!, 0);
}

describe("FakePolicy at a sampling temperature", () => {
  test.each([1, 0.5, 1.7])(
    "T = %s: log-probs are log softmax(θ/T) and gradients match central differences",
    async (temperature) => {
      const policy = new FakePolicy(4);
      policy.theta = Float64Array.from([0.3, -0.2, 0.9, 0.1]);
      const [lp] = await policy.logprobs(batch, { temperature });
      const z = Math.log([0.3, -0.2, 0.9, 0.1].reduce((a, t) => a + Math.exp(t / temperature), 0));
      expect(lp![1]).toBeCloseTo(0.9 / temperature - z, 6);

      await policy.accumulateGradients(batch, coefficients, { temperature });
      for (let v = 0; v < 4; v += 1) {
        const h = 1e-2; // log-probs are f32: a larger step keeps rounding noise (~1e-7 / h) below the tolerance
        policy.theta[v]! += h;
        const plus = await objective(policy, temperature);
        policy.theta[v]! -= 2 * h;
        const minus = await objective(policy, temperature);
        policy.theta[v]! += h;
        expect(policy.grad[v]).toBeCloseTo((plus - minus) / (2 * h), 3);
      }
    },
  );

  test("the reference ignores θ at every temperature", async () => {
    const policy = new FakePolicy(4);
    policy.theta = Float64Array.from([5, 0, 0, 0]);
    const [lp] = await policy.logprobs(batch, { reference: true, temperature: 0.3 });
    for (const x of Array.from(lp!)) expect(x).toBeCloseTo(-Math.log(4), 6);
  });
});

describe("FakePolicy: coefficients from the same forward, and the frozen start as reference", () => {
  test("a CoefficientFunction gives the two-call result with one forward", async () => {
    const twoCalls = new FakePolicy(4, [0.3, -0.2, 0.9, 0.1]);
    const oneCall = new FakePolicy(4, [0.3, -0.2, 0.9, 0.1]);
    const fn = (lp: Float32Array[]): Float32Array[] => lp.map((row) => row.map((x) => -Math.exp(x)));
    const lp = await twoCalls.logprobs(batch, { temperature: 0.7 });
    const two = await twoCalls.accumulateGradients(batch, fn(lp), { temperature: 0.7 });
    const one = await oneCall.accumulateGradients(batch, fn, { temperature: 0.7 });
    expect(one.objective).toBeCloseTo(two.objective, 12);
    expect(Array.from(oneCall.grad)).toEqual(Array.from(twoCalls.grad));
    expect(oneCall.forwardPasses).toBe(1);
  });

  test("the reference is θ at creation: KL 0 before a step, not after", async () => {
    const policy = new FakePolicy(4, [0.5, 0, -0.5, 0]);
    const kl = async (): Promise<number> => {
      const [now] = await policy.logprobs(batch);
      const [ref] = await policy.logprobs(batch, { reference: true });
      return now!.reduce((a, x, t) => a + Math.abs(x - ref![t]!), 0);
    };
    expect(await kl()).toBe(0);
    await policy.accumulateGradients(batch, coefficients);
    await policy.step({ learningRate: 0.1, maxGradNorm: 0, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(await kl()).toBeGreaterThan(0);
  });
});
