#!/usr/bin/env bash
# Builds ggml's CUDA backend, libggml-cuda.so, for one GPU architecture from the llama.cpp source of
# node-llama-cpp's own binaries (the kit's ggml-src.tar.xz: the commit of its libggml-base.so), and puts it where
# node-llama-cpp's CUDA variant loads it from (its bins folder, beside libggml.cuda.v0.5.0.so, the registry that
# dlopens libggml-*.so from its own folder). docs/native.md, "The GPU kit".
#   bash buildCuda.sh <arch, e.g. 90a> <ggml-src.tar.xz> <build dir> <bins dir> [cublas include dir] [pip lib dirs]
# Only the `ggml-cuda` target is built (its libggml-base.so is not used: the prebuilt one is already loaded, same
# commit); GGML_CUDA_FA_ALL_QUANTS=OFF (flash-attention kernels for 4 K/V type pairs only); GGML_BACKEND_DL as
# node-llama-cpp builds it. ninja -j (cores − 2): the table's models and PyTorch run beside the build.
# cuBLAS may come from pip (nvidia-cublas) rather than the toolkit: then its headers and its libcublas.so.N are
# passed to CMake by path (a pip wheel has no unversioned libcublas.so for find_library).
set -euo pipefail
arch="$1" src="$2" build="$3" bins="$4" cublas_include="${5:-}" pip_libs="${6:-}"
started=$(date +%s)
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
rm -rf "$build" && mkdir -p "$build/src"
if command -v xz > /dev/null 2>&1; then xz -dc "$src" | tar -x -C "$build/src"
else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$src" "$build/src"; fi
# ggml/ alone is not a standalone CMake project in the bundle (its ggml.pc.in is missing): wrap it.
printf '%s\n' 'cmake_minimum_required(VERSION 3.18)' 'project(gl_rl_ggml_cuda C CXX)' 'add_subdirectory(ggml)' \
  > "$build/src/CMakeLists.txt"

extra=()
find_lib() { # find_lib NAME: the first NAME.so[.N] in the pip folders
  local d
  IFS=: read -ra dirs <<< "$pip_libs"
  for d in "${dirs[@]}"; do
    for f in "$d/lib$1.so" "$d"/lib"$1".so.[0-9]*; do [ -e "$f" ] && { echo "$f"; return 0; }; done
  done
  return 1
}
toolkit_lib=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
if ! ls "$toolkit_lib"/lib64/libcublas.so* "$toolkit_lib"/targets/*/lib/libcublas.so* > /dev/null 2>&1; then
  cublas=$(find_lib cublas) || { echo "buildCuda: no libcublas in the toolkit nor in pip's nvidia packages" >&2; exit 1; }
  cublaslt=$(find_lib cublasLt) || cublaslt="$cublas"
  extra+=("-DCUDA_cublas_LIBRARY=$cublas" "-DCUDA_cublasLt_LIBRARY=$cublaslt")
  if [ -n "$cublas_include" ]; then
    extra+=("-DCMAKE_CUDA_FLAGS=-I$cublas_include" "-DCMAKE_CXX_FLAGS=-I$cublas_include")
  fi
fi
generator=()
command -v ninja > /dev/null 2>&1 && generator=(-G Ninja)
jobs=$(( $(nproc) > 4 ? $(nproc) - 2 : $(nproc) ))

echo "buildCuda: arch $arch, nvcc $("$nvcc" --version | grep -o 'release [0-9.]*'), $jobs jobs"
cmake -S "$build/src" -B "$build/out" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON -DGGML_NATIVE=OFF -DGGML_CPU=OFF -DGGML_CCACHE=OFF \
  -DGGML_CUDA=ON -DGGML_CUDA_FA_ALL_QUANTS=OFF -DGGML_CUDA_NCCL=OFF -DGGML_BUILD_NUMBER=1 \
  ${extra[@]+"${extra[@]}"} > "$build/configure.log" 2>&1 || { tail -30 "$build/configure.log" >&2; exit 1; }
configured=$(date +%s)
cmake --build "$build/out" --target ggml-cuda -j "$jobs" > "$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 1; }
lib=$(find "$build/out" -name libggml-cuda.so | head -1)
[ -n "$lib" ] || { echo "buildCuda: the build made no libggml-cuda.so" >&2; exit 1; }
mkdir -p "$bins"
cp "$lib" "$bins/libggml-cuda.so.tmp" && mv "$bins/libggml-cuda.so.tmp" "$bins/libggml-cuda.so"
done_at=$(date +%s)
printf '{"arch":"%s","configureSeconds":%d,"buildSeconds":%d,"bytes":%d,"library":"%s"}\n' "$arch" \
  $((configured - started)) $((done_at - configured)) "$(stat -c %s "$bins/libggml-cuda.so")" "$bins/libggml-cuda.so"
