// A Node test environment in which `x instanceof Array` agrees with `Array.isArray(x)`.
// Why: jest runs tests in a vm realm; arrays made by native addons (node-llama-cpp) come from the outer
// realm, and node-llama-cpp's JS checks them with `instanceof Array`, which is then false (measured:
// evaluateWithMetadata returned malformed tokens and grammars were ignored). Sharing the outer Array
// breaks other things (GGUF parsing), so only instanceof is changed.
const { TestEnvironment } = require("jest-environment-node");

class CrossRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    const realmArray = this.global.Array;
    Object.defineProperty(realmArray, Symbol.hasInstance, {
      value: (value) => Array.isArray(value),
      configurable: true,
    });
  }
}

module.exports = CrossRealmEnvironment;
