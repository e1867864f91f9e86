import type { Config } from "jest";

// ESM + TypeScript, as measured in shared/ECOSYSTEM.md: ts-jest with useESM, `.js` stripped from relative
// imports, and a test environment that makes `instanceof Array` agree with `Array.isArray` (node-llama-cpp
// checks native results with instanceof, which is false across jest's vm realm).
const common = {
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }] },
  testEnvironment: "<rootDir>/test/crossRealmEnvironment.cjs",
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
} satisfies Config;

const config: Config = {
  // Each worker that opens PGlite costs ~0.75 GB and this machine has 2 cores.
  maxWorkers: 2,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/**/*.test.ts"], testPathIgnorePatterns: [...common.testPathIgnorePatterns, "\\.model\\.test\\.ts$"] },
    { ...common, displayName: "model", testMatch: ["<rootDir>/**/*.model.test.ts"] },
  ],
};

export default config;
