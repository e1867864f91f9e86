#!/usr/bin/env bash
# The GPU kit's rehearsal (docs/native.md, "The GPU kit"; run by .ci/run): the kit copied into an empty folder and
# `gpu-kit/run.sh` run there the way the GPU machine runs it — no usable `node` on PATH (the machine's own node is
# masked by a bind mount) and no network (a new network namespace: only a down loopback) — in each mode given
# (default: cpu vulkan). Each run must write device.json with "passed": true and every phase the mode runs "ok".
#   bash scripts/rehearseGpuKit.sh [--kit gpu-kit] [modes…]
# Needs root (unshare -n -m) and the kit (`npm run gpu-kit -- --vulkan` for the Vulkan mode). Exit 1 on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=gpu-kit
if [ "${1:-}" = --kit ]; then KIT="$2"; shift 2; fi
MODES=("$@")
[ ${#MODES[@]} -gt 0 ] || MODES=(cpu vulkan)
[ -f "$KIT/run.sh" ] || { echo "rehearsal: no kit in $KIT/ (npm run gpu-kit -- --vulkan)" >&2; exit 1; }
command -v unshare > /dev/null && [ "$(id -u)" = 0 ] ||
  { echo "rehearsal: needs root and unshare (util-linux) for the network and mount namespace" >&2; exit 1; }

root=$(mktemp -d /tmp/gl-rl-kit-rehearsal-XXXXXX)
trap 'rm -rf "$root"' EXIT
printf '#!/bin/sh\necho "node: not on this machine (the kit rehearsal masks it)" >&2\nexit 127\n' > "$root/no-node"
chmod +x "$root/no-node"
failed=0
for mode in "${MODES[@]}"; do
  dir="$root/$mode"
  mkdir -p "$dir"
  cp -r "$KIT" "$dir/gpu-kit"
  started=$(date +%s)
  # Inside: node masked, network gone (checked), then the one command the GPU machine runs.
  set +e
  (cd "$dir" && unshare -n -m bash -c '
    for n in $(type -aP node nodejs 2>/dev/null); do mount --bind "$1/no-node" "$n"; done
    if node --version > /dev/null 2>&1; then echo "rehearsal: node is still usable" >&2; exit 3; fi
    if python3 -c "import socket; socket.create_connection((\"registry.npmjs.org\", 443), timeout=3)" 2> /dev/null; then
      echo "rehearsal: the network is reachable" >&2; exit 3
    fi
    GL_RL_KIT_WORK="$PWD/work" bash gpu-kit/run.sh --out "$PWD/out" "$2"
  ' _ "$root" "$mode") > "$dir/console.log" 2>&1
  rc=$?
  set -e
  verdict=$(python3 - "$dir/out/device.json" "$mode" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("no device.json: %s" % e); sys.exit(0)
bad = [p["name"] + "=" + p["status"] for p in d["phases"] if p["status"] not in ("ok", "skipped")]
expected = {"cpu": {"unpack", "preflight", "probe", "check-f32", "check-quantized", "grpo-step", "table"},
            "vulkan": {"unpack", "preflight", "probe", "check-f32", "check-default", "check-quantized", "grpo-step", "table"}}
missing = sorted(expected.get(sys.argv[2], set()) - {p["name"] for p in d["phases"] if p["status"] == "ok"})
if d.get("schema") != "gl-rl-device/1": bad.append("schema " + str(d.get("schema")))
if not d.get("passed"): bad.append("passed false: " + "; ".join(d["checks"]["failures"]) + (" stop: " + d["stop"] if d.get("stop") else ""))
if missing: bad.append("not ok: " + ", ".join(missing))
print("ok" if not bad else "; ".join(bad))
PY
)
  echo "rehearsal $mode: run.sh rc $rc in $(( $(date +%s) - started )) s: $verdict"
  if [ "$rc" != 0 ] || [ "$verdict" != ok ]; then
    failed=1
    tail -60 "$dir/console.log" >&2
  fi
done
exit $failed
