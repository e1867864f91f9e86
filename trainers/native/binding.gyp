{
  # The gradient extension: our C++ compiled against the headers of the llama.cpp release node-llama-cpp ships,
  # linked with its prebuilt ggml libraries (no ggml build). GGML_BINS is set by buildNative.mjs.
  "targets": [
    {
      "target_name": "gl_rl_native",
      "sources": [
        "src/addon.cpp",
        "src/AddonPolicy.cpp",
        "src/qwen2Model.cpp",
        "src/qwen2Graph.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "vendor/ggml/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "libraries": [
        "-L<!(echo $GGML_BINS)",
        "-l:libggml-base.so",
        "-l:libggml.v0.5.0.so",
        "-Wl,-rpath,'$$ORIGIN/../../../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64'",
        "-Wl,-rpath,<!(echo $GGML_BINS)"
      ]
    }
  ]
}
