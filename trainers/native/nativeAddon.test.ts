import { describe, expect, test } from "@jest/globals";
import { join } from "node:path";
import { addonLocation, NATIVE_ADDON_PATH, toNativeError } from "./nativeAddon.js";

const built = join("build", "Release", "gl_rl_native.node");
const base = {
  override: undefined,
  builtInPlace: false,
  packageWritable: true,
  cacheDir: "/cache/native/abc",
  builtInCache: false,
};

describe("where the native addon is loaded from or built", () => {
  test("GL_RL_NATIVE_DIR wins; then an in-place build; then the cache's", () => {
    expect(addonLocation({ ...base, override: "/tmp/x", builtInPlace: true })).toEqual({
      path: join("/tmp/x", built),
      buildDir: "/tmp/x",
    });
    expect(addonLocation({ ...base, builtInPlace: true, builtInCache: true })).toEqual({
      path: NATIVE_ADDON_PATH,
      buildDir: undefined,
    });
    expect(addonLocation({ ...base, builtInCache: true })).toEqual({
      path: join("/cache/native/abc", built),
      buildDir: "/cache/native/abc",
    });
  });

  test("unbuilt: in place when the package folder is writable, else in the cache dir", () => {
    expect(addonLocation(base)).toEqual({ path: NATIVE_ADDON_PATH, buildDir: undefined });
    expect(addonLocation({ ...base, packageWritable: false })).toEqual({
      path: join("/cache/native/abc", built),
      buildDir: "/cache/native/abc",
    });
  });

  test("addon errors become NativeErrors with a hint; others pass through", () => {
    const error = toNativeError(Object.assign(new Error("no Vulkan device"), { code: "native.backend" }), {
      file: "m.gguf",
    });
    expect(error).toMatchObject({ code: "native.backend", hint: expect.stringMatching(/gpu "auto" or "cpu"/) });
    const plain = new Error("x");
    expect(toNativeError(plain)).toBe(plain);
  });
});
