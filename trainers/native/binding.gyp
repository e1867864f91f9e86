{
  # The gradient extension: our C++ compiled against the headers of the llama.cpp release node-llama-cpp ships,
  # linked with libggml-base only, by soname and without an rpath: at run time node-llama-cpp has already loaded
  # the libggml-base of its variant (CPU, CUDA, Vulkan, Metal build — the file is the same in each), and the
  # backend registry is found in that variant's libggml (src/ggmlBackends.cpp; docs/native.md, "Finding ggml").
  # GGML_INCLUDE_DIR, GGML_BASE_DIR (a folder holding libggml-base.so, for the link step only) and
  # NODE_ADDON_API_DIR are set by buildNative.mjs (resolved from the package, so that a build elsewhere works).
  "targets": [
    {
      "target_name": "gl_rl_native",
      "sources": [
        "src/addon.cpp",
        "src/AddonPolicy.cpp",
        "src/backwardRewrite.cpp",
        "src/cpuBlas.cpp",
        "src/ggmlBackends.cpp",
        "src/ggufFile.cpp",
        "src/qwen2Graph.cpp",
        "src/qwen2Head.cpp",
        "src/qwen2Load.cpp",
        "src/qwen2Lora.cpp",
        "src/qwen2Model.cpp",
        "src/qwen2Step.cpp"
      ],
      "include_dirs": [
        "<!(echo $NODE_ADDON_API_DIR)",
        "<!(echo $GGML_INCLUDE_DIR)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "conditions": [
        ["OS=='mac'", {}, {"libraries": ["-L<!(echo $GGML_BASE_DIR)", "-l:libggml-base.so", "-ldl"]}]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_LDFLAGS": ["-undefined", "dynamic_lookup"]
      }
    }
  ]
}
