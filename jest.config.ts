import type { Config } from "jest";

// ESM + TypeScript, as measured in docs/ecosystem.md: ts-jest with useESM, `.js` stripped from relative
// imports, and a test environment that makes `instanceof Array` agree with `Array.isArray` (node-llama-cpp
// checks native results with instanceof, which is false across jest's vm realm).
const common = {
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }] },
  testEnvironment: "<rootDir>/test/crossRealmEnvironment.cjs",
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
} satisfies Config;

// Two workers on 2 cores: ggml threads spin, so each process gets one thread (runtime/environment.ts). With
// 2 threads each, a 0.45 s gradient check took > 60 s beside a worker that was decoding. Workers and the
// CLI processes tests start inherit this.
process.env.GL_RL_THREADS ??= "1";

const config: Config = {
  // Each worker that opens PGlite costs ~0.75 GB and this machine has 2 cores.
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/**/*.test.ts"],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, "\\.model\\.test\\.ts$"],
    },
    { ...common, displayName: "model", testMatch: ["<rootDir>/**/*.model.test.ts"] },
  ],
};

export default config;
