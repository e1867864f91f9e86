#!/usr/bin/env bash
# gl-rl on a GPU machine that has no Node and no network, in one command (docs/native.md, "The GPU kit"):
#   bash gpu-kit/run.sh --out <dir> [cuda|vulkan|cpu]          (default cuda; the kit from `npm run gpu-kit`)
# Writes <dir>/device.log (everything) and <dir>/device.json (one record: the machine, every phase's status,
# seconds, budget, result and stderr tail, the checks' failures, the table). Exits 0 when every phase passed, 1
# otherwise, 2 on a usage error. Never stops at a failed phase: each runs in its own process under `timeout`
# (a ggml abort or a CUDA OOM kills that phase only) and the next one runs — except after a failed preflight or
# probe in a GPU mode, where the device phases are recorded as skipped with the reason (no silent CPU fallback).
#
# Phases and budgets (seconds; cuda mode, whole run ≤ 480 = 8 min; `*` = in the background, beside the build):
#   unpack          20   node.xz, app.tar.xz (xz, else python3's lzma), vulkan.tar.xz if there
#   preflight       20   nvidia-smi (name, compute capability → CUDA arch, memory, driver), nvcc, cmake, ninja,
#                        the pip CUDA libraries (nvidia.* packages: cudart, cublas, nvrtc) put on LD_LIBRARY_PATH
#   cuda-build     240   libggml-cuda.so from node-llama-cpp's own llama.cpp (ggml-src.tar.xz) for that arch only,
#                        GGML_CUDA_FA_ALL_QUANTS=OFF, ninja -j (cores − 2), placed where node-llama-cpp loads it
#   table-models*  200   the table's random-weight GGUFs: 0.5B- and 1.5B-shaped Qwen2 (f32 → q4_K and f16), CPU
#   torch*         200   PyTorch + peft LoRA on the same shapes, bf16 and f32 (torchBaseline.py), on the GPU
#   probe           40   node-llama-cpp --gpu <mode> really on that device, the addon sees it — or a stop
#   check-f32       60   gradients (vs finite differences, vs the CPU) and log-probs (vs node-llama-cpp) with f32
#                        products (NVIDIA_TF32_OVERRIDE=0; batches ≥ 17 tokens keep ggml's TF32 mma kernels out);
#                        the node share on the device and the graph splits (1 = nothing on the CPU)
#   check-default   45   the same with the device's default precision (CUDA: TF32 products; Vulkan: f16
#                        shaders), with bounds for that precision
#   check-quantized 60   q8_0 (tied head) and q4_K bases: held quantized, log-probs vs node-llama-cpp on the
#                        device, gradients vs the same weights dequantized to f32
#   grpo-step       60   `gl-rl train grpo --max-steps 1 --gpu <mode>`: sampling and training on the device
#   table          rest  tokens/s and peak device memory of 2 shapes × {q4_K, f16} × LoRA r {16, 64} × dropout
#                        {0, 0.1}, 8 × 512 tokens; ratios to PyTorch bf16 and f32
# In cpu and vulkan modes (lavapipe: a CPU posing as a GPU, ~100× slower) the table uses tiny shapes, nothing is
# built, and the whole run is bounded by 240 s. GL_RL_KIT_DEADLINE (seconds) overrides the bound.
set -u
KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=cuda
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:-}"; shift 2 ;;
    cuda|vulkan|cpu) MODE="$1"; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'; usage: bash gpu-kit/run.sh --out <dir> [cuda|vulkan|cpu]" >&2; exit 2 ;;
  esac
done
if [ -z "$OUT" ]; then
  echo "run.sh: --out <dir> is required (device.log and device.json go there)" >&2
  exit 2
fi
mkdir -p "$OUT" || exit 2
OUT="$(cd "$OUT" && pwd)"
WORK="${GL_RL_KIT_WORK:-$KIT/work}"
REC="$OUT/.phases"
rm -rf "$REC" && mkdir -p "$REC" "$WORK"
: > "$OUT/device.log"
exec > >(tee -a "$OUT/device.log") 2>&1
STARTED=$(date +%s)
if [ "$MODE" = cuda ]; then DEADLINE_S="${GL_RL_KIT_DEADLINE:-480}"; else DEADLINE_S="${GL_RL_KIT_DEADLINE:-240}"; fi
DEADLINE=$((STARTED + DEADLINE_S))
CORES=$(nproc 2>/dev/null || echo 2)
export GL_RL_THREADS="${GL_RL_THREADS:-$(( CORES > 2 ? CORES / 2 : CORES ))}"
# No network on the device: nothing may try one.
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "# gl-rl device run: mode=$MODE out=$OUT deadline=${DEADLINE_S}s cores=$CORES GL_RL_THREADS=$GL_RL_THREADS"

# phase NAME BUDGET CMD… — runs CMD under `timeout` (bounded by the deadline too), stdout to $REC/NAME.out,
# stderr to $REC/NAME.err (both copied into device.log), and records status (ok | failed | timeout | skipped).
phase() {
  local name="$1" budget="$2"; shift 2
  local now left t rc status begin
  now=$(date +%s); left=$((DEADLINE - now)); t=$budget
  [ "$left" -lt "$t" ] && t=$left
  if [ "$t" -lt 5 ]; then
    skip "$name" "no time left of the ${DEADLINE_S} s run"
    return 1
  fi
  echo "## $name (budget ${t} s) $(date -u +%H:%M:%S)"
  begin=$(date +%s)
  # A shell function runs in a child bash (timeout runs programs): the functions and variables below are exported.
  if declare -F "$1" > /dev/null; then set -- bash -c "$1"; fi
  timeout -k 10 "$t" "$@" > "$REC/$name.out" 2> "$REC/$name.err"
  rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status=timeout ;;
    *) status=failed ;;
  esac
  sed "s/^/[$name] /" "$REC/$name.out"
  sed "s/^/[$name:err] /" "$REC/$name.err" | tail -200
  printf '%s\n%s\n%s\n%s\n' "$status" "$rc" "$(( $(date +%s) - begin ))" "$t" > "$REC/$name.status"
  echo "## $name: $status (rc $rc, $(( $(date +%s) - begin )) s)"
  [ "$status" = ok ]
}
skip() {
  printf 'skipped\n\n0\n0\n%s\n' "$2" > "$REC/$1.status"
  echo "## $1: skipped ($2)"
}

# ---- unpack --------------------------------------------------------------------------------------------------------
unxz_to() { # unxz_to FILE.xz DEST (xz, else python3's lzma)
  if command -v xz > /dev/null 2>&1; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
untar_xz() { # untar_xz FILE.tar.xz DIR
  if command -v xz > /dev/null 2>&1; then xz -dc "$1" | tar -x -C "$2"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi
}
unpack() {
  rm -rf "$WORK/app" && mkdir -p "$WORK/app/bin" || return 1
  untar_xz "$KIT/app.tar.xz" "$WORK" || return 1
  unxz_to "$KIT/node.xz" "$WORK/app/bin/node" && chmod +x "$WORK/app/bin/node" || return 1
  if [ -f "$KIT/vulkan.tar.xz" ]; then untar_xz "$KIT/vulkan.tar.xz" "$WORK" || return 1; fi
  # The trainer reads the llama.cpp revision with `git bundle list-heads`; without git, a stand-in answers that.
  if ! command -v git > /dev/null 2>&1; then
    mkdir -p "$WORK/shim"
    printf '%s\n' '#!/bin/sh' '[ "$1 $2" = "bundle list-heads" ] && exec sed -n "2p" "$3"' \
      'echo "git is not installed (gl-rl kit stand-in)" >&2; exit 1' > "$WORK/shim/git"
    chmod +x "$WORK/shim/git"
  fi
  "$WORK/app/bin/node" --version
}
export -f unxz_to untar_xz unpack
export KIT WORK MODE
phase unpack 20 unpack
APP="$WORK/app"
NODE="$APP/bin/node"
export APP NODE
# Only the kit's node, whatever PATH held before; the git stand-in last.
export PATH="$APP/bin:$PATH:$WORK/shim"
export GL_RL_CACHE_DIR="$APP/cache"
CUDA_BINS="$APP/node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda"

# ---- preflight -----------------------------------------------------------------------------------------------------
# Prints `key=value` lines (device.json's "machine"); fails with the reason on its last line.
preflight() {
  echo "node=$("$NODE" --version 2>&1 | head -1)"
  echo "python3=$(python3 --version 2>&1 | head -1)"
  echo "kernel=$(uname -sr)"
  echo "glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null)"
  [ -x "$NODE" ] && "$NODE" -e 0 || { echo "reason=the kit's node does not start here (see stderr)"; return 1; }
  [ -f "$APP/dist/cli/main.js" ] || { echo "reason=the kit is incomplete: app/dist is missing"; return 1; }
  if [ "$MODE" = vulkan ]; then
    [ -f "$APP/node_modules/@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan/libggml-vulkan.so" ] ||
      { echo "reason=this kit has no Vulkan backend: build it with npm run gpu-kit -- --vulkan"; return 1; }
  fi
  [ "$MODE" = cuda ] || return 0
  command -v nvidia-smi > /dev/null 2>&1 || { echo "reason=no nvidia-smi: no NVIDIA driver on this machine"; return 1; }
  local q
  q=$(nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader,nounits 2>&1 | head -1)
  echo "gpu=$q"
  local cc; cc=$(echo "$q" | awk -F', ' '{print $2}')
  [[ "$cc" =~ ^[0-9]+\.[0-9]+$ ]] || { echo "reason=nvidia-smi lists no GPU with a compute capability: $q"; return 1; }
  local arch="${cc/./}"
  # Hopper and later have architecture-specific features (wgmma, TMA): the "a" targets compile them.
  [ "${cc%%.*}" -ge 9 ] && arch="${arch}a"
  echo "computeCapability=$cc"
  echo "cudaArch=$arch"
  local nvcc; nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
  [ -n "$nvcc" ] || { echo "reason=no nvcc (CUDA toolkit) to build libggml-cuda.so"; return 1; }
  echo "nvcc=$nvcc $("$nvcc" --version | grep -o 'release [0-9.]*')"
  command -v cmake > /dev/null || { echo "reason=no cmake"; return 1; }
  echo "cmake=$(cmake --version | head -1)"
  echo "ninja=$(command -v ninja > /dev/null && ninja --version || echo none)"
  # The CUDA libraries from pip (nvidia-cublas, nvidia-cuda-runtime, …): folders holding libcudart/libcublas.
  local dirs
  dirs=$(python3 -c 'import nvidia, sys; print("\n".join(nvidia.__path__))' 2>/dev/null |
    while read -r d; do find "$d" -name 'libcublas.so.*' -o -name 'libcudart.so.*' -o -name 'libcublasLt.so.*' \
      -o -name 'libnvrtc.so.*'; done | xargs -r -n1 dirname | sort -u | tr '\n' ':')
  echo "pipCudaLibs=${dirs%:}"
  local include
  include=$(python3 -c 'import nvidia, sys; print("\n".join(nvidia.__path__))' 2>/dev/null |
    while read -r d; do find "$d" -name cublas_v2.h; done | head -1)
  echo "cublasInclude=${include:+$(dirname "$include")}"
  echo "libcuda=$(ldconfig -p 2>/dev/null | grep -m1 'libcuda.so.1' | awk '{print $NF}')"
}
export -f preflight
MACHINE="$REC/machine.env"
if phase preflight 20 preflight; then PRE_OK=1; else PRE_OK=0; fi
cp "$REC/preflight.out" "$MACHINE" 2>/dev/null || : > "$MACHINE"
kv() { grep -m1 "^$1=" "$MACHINE" | cut -d= -f2-; }
STOP=""
[ "$PRE_OK" = 1 ] || STOP="preflight: $(kv reason)"
if [ "$MODE" = cuda ] && [ -n "$(kv pipCudaLibs)" ]; then
  export LD_LIBRARY_PATH="$(kv pipCudaLibs)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ "$MODE" = vulkan ]; then
  # ggml-vulkan lists a CPU-type device (lavapipe) only when told to; a real GPU is device 0 either way.
  export GGML_VK_VISIBLE_DEVICES="${GGML_VK_VISIBLE_DEVICES:-0}"
fi
SIZE=tiny
[ "$MODE" = cuda ] && SIZE=large
TABLE="$WORK/table"

# ---- the build, and beside it the table's models and PyTorch -------------------------------------------------------
PIDS=()
if [ -z "$STOP" ]; then
  if [ "$MODE" = cuda ]; then
    phase cuda-build 240 bash "$KIT/buildCuda.sh" "$(kv cudaArch)" "$KIT/ggml-src.tar.xz" "$WORK/ggml-build" \
      "$CUDA_BINS" "$(kv cublasInclude)" "$(kv pipCudaLibs)" &
    PIDS+=($!)
  else
    skip cuda-build "nothing to build in $MODE mode"
  fi
  ( phase table-models 200 "$NODE" "$APP/dist/bench/deviceTable.js" --prepare "$TABLE" --size "$SIZE" &&
    if python3 -c 'import torch, peft, transformers' > /dev/null 2>&1; then
      phase torch 200 python3 "$KIT/torchBaseline.py" --plan "$TABLE/plan.json" --device "$([ "$MODE" = cuda ] && echo cuda || echo cpu)"
    else
      skip torch "skipped: no torch (python3 lacks torch, peft or transformers)"
    fi ) &
  PIDS+=($!)
  [ "$MODE" = cuda ] && wait "${PIDS[0]}"
  if [ "$MODE" = cuda ] && [ "$(head -1 "$REC/cuda-build.status" 2>/dev/null)" != ok ]; then
    STOP="cuda-build: $(tail -1 "$REC/cuda-build.err" 2>/dev/null)"
  fi
fi

# ---- probe: the device really in use, or a stop --------------------------------------------------------------------
if [ -z "$STOP" ]; then
  phase probe 40 "$NODE" "$APP/dist/bench/deviceProbe.js" --gpu "$MODE" ||
    STOP="probe: node-llama-cpp or the trainer is not on $MODE: $(tail -1 "$REC/probe.out" 2>/dev/null)"
fi

# ---- checks, one GRPO step -----------------------------------------------------------------------------------------
CHECK="$APP/dist/trainers/native/deviceCheck.js"
if [ -n "$STOP" ]; then
  for p in probe check-f32 check-default check-quantized grpo-step table; do
    [ -f "$REC/$p.status" ] || skip "$p" "stopped after $STOP"
  done
else
  case "$MODE" in
    cuda)
      NVIDIA_TF32_OVERRIDE=0 phase check-f32 60 "$NODE" "$CHECK" --gpu cuda --precision f32
      phase check-default 45 "$NODE" "$CHECK" --gpu cuda --precision tf32 ;;
    vulkan)
      GGML_VK_DISABLE_F16=1 phase check-f32 60 "$NODE" "$CHECK" --gpu vulkan --precision f32
      phase check-default 45 "$NODE" "$CHECK" --gpu vulkan --precision f16 ;;
    cpu)
      phase check-f32 60 "$NODE" "$CHECK" --gpu cpu --precision f32
      skip check-default "the CPU's default precision is f32 (check-f32)" ;;
  esac
  phase check-quantized 60 "$NODE" "$CHECK" --gpu "$MODE" --quantized
  printf '%s\n' '{ "groupSize": 4, "promptsPerStep": 2, "maxCompletionTokens": 24, "evalEvery": 0, "evalLimit": 2 }' \
    > "$WORK/grpo.json"
  rm -rf "$WORK/grpo"
  phase grpo-step 60 "$NODE" "$APP/bin/gl-rl.mjs" train grpo --config "$WORK/grpo.json" --max-steps 1 \
    --gpu "$MODE" --out "$WORK/grpo"
  for pid in "${PIDS[@]}"; do wait "$pid"; done
  PIDS=()
  if [ "$(head -1 "$REC/table-models.status" 2>/dev/null)" = ok ]; then
    # The script's own budget leaves room for its start and the last row's end inside the phase's.
    left=$(( DEADLINE - $(date +%s) - 10 ))
    phase table "$left" "$NODE" "$APP/dist/bench/deviceTable.js" --run "$TABLE" --gpu "$MODE" \
      --seconds "$(( left * 2 / 3 ))" --out "$TABLE/rows.jsonl"
  else
    skip table "the table's models were not written (table-models)"
  fi
fi
for pid in "${PIDS[@]}"; do wait "$pid"; done

# ---- device.json ---------------------------------------------------------------------------------------------------
# python3, not the kit's node: the record must come out even where that node cannot start.
python3 "$KIT/assembleDeviceJson.py" --rec "$REC" --mode "$MODE" --out "$OUT/device.json" --table "$TABLE" \
  --started "$STARTED" --deadline "$DEADLINE_S" --stop "$STOP"
rc=$?
echo "# done in $(( $(date +%s) - STARTED )) s: $OUT/device.json (passed: $([ "$rc" = 0 ] && echo true || echo false))"
exit "$rc"
