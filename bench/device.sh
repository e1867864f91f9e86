#!/usr/bin/env bash
# The native gradient extension on this machine's GPU, prepared to run in one go (docs/native.md, "Checks"):
#   1. build the extension (seconds);
#   2. the checks on the CPU and on the GPU (trainers/native/deviceCheck.ts): LoRA gradients vs central finite
#      differences and vs the CPU's, log-probs vs node-llama-cpp on the same device, share of graph nodes there;
#   3. a throughput table (bench/train.ts --device): the tiny and the 0.5B-shaped model, LoRA r 8 and r 64,
#      CPU vs GPU — tokens/s, peak RSS and the device memory in use.
# Usage: bench/device.sh [cuda|vulkan|metal]   (default: cuda when nvidia-smi lists a GPU, else vulkan).
# Under 8 minutes on an NVIDIA GPU. Without a GPU, `vulkan` runs on Mesa's lavapipe (apt-get install -y
# mesa-vulkan-drivers libvulkan1): the checks run, and the table keeps the 0.5B model on the CPU (lavapipe is a
# CPU posing as a GPU: minutes per step). Exits 1 when a check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

gpu="${1:-}"
if [ -z "$gpu" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then gpu=cuda; else gpu=vulkan; fi
fi
table_flags=()
if [ "$gpu" = vulkan ]; then
  # ggml-vulkan lists a CPU-type device (lavapipe) only when told to.
  export GGML_VK_VISIBLE_DEVICES="${GGML_VK_VISIBLE_DEVICES:-0}"
  if command -v vulkaninfo >/dev/null 2>&1 && vulkaninfo --summary 2>/dev/null | grep -q "PHYSICAL_DEVICE_TYPE_CPU"; then
    table_flags+=(--skip-large-gpu)
  fi
fi
# ggml's CPU threads spin: one per physical core.
cores=$(nproc)
export GL_RL_THREADS="${GL_RL_THREADS:-$(( cores > 2 ? cores / 2 : cores ))}"
echo "# gl-rl native extension on gpu=$gpu (GL_RL_THREADS=$GL_RL_THREADS)"
[ -d node_modules ] || npm install --no-audit --no-fund

echo "## 1. build"
node trainers/native/buildNative.mjs --strict

echo "## 2. checks (gradients vs finite differences and the CPU; log-probs vs node-llama-cpp)"
failed=0
for device in cpu "$gpu"; do
  line=$(node --import tsx trainers/native/deviceCheck.ts --gpu "$device" | tail -1)
  echo "$device: $line"
  if ! node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.error || r.failures.length ? 1 : 0)' "$line"; then
    failed=1
  fi
done

echo "## 3. throughput (bench/train.ts --device $gpu)"
npx tsx bench/train.ts --device "$gpu" ${table_flags[@]+"${table_flags[@]}"}

echo "# done in $(( $(date +%s) - started )) s; checks $([ "$failed" = 0 ] && echo passed || echo FAILED)"
exit "$failed"
