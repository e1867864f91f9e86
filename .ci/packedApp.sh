#!/usr/bin/env bash
# gl-rl as a dependency of another app, the way a user meets it: pack the package (prepack builds dist/),
# install the tarball into a fresh app, and run there, with an empty GL_RL_CACHE_DIR:
#   1. the README's "Use it from code" snippet, as it is written — run, and type-checked with TypeScript;
#   2. `npx gl-rl ask "…"` — it must answer within GLRL_FIRST_ASK_LIMIT_S (default 60) seconds and print no
#      line that reads like an error;
#   3. `npx gl-rl train sft --max-steps 2` — the native gradient extension is built on first use.
# A CI step rather than a jest test: it needs the npm registry (the app installs the package's
# dependencies) and takes minutes. Usage: .ci/packedApp.sh   (GL_RL_THREADS defaults to 1 here)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d "${TMPDIR:-/tmp}/gl-rl-packed-app.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export GL_RL_THREADS="${GL_RL_THREADS:-1}"
export GL_RL_CACHE_DIR="$work/cache"
limit="${GLRL_FIRST_ASK_LIMIT_S:-60}"
question="Show all active projects with budget over 100000"
fail() { echo "packed app: FAILED: $*" >&2; exit 1; }
seconds() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

echo "packed app: npm pack"
tarball="$(npm pack --silent --pack-destination "$work" | tail -1)"
[ -f "$work/$tarball" ] || fail "npm pack wrote no tarball"
echo "packed app: $tarball, $(du -k "$work/$tarball" | cut -f1) KiB"

mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm pkg set type=module
t0="$(seconds)"
# --ignore-scripts: no dependency's install script runs, as npm 11 does for registry packages that the app's
# allowScripts does not list (here, from a local tarball, npm 11.19 still ran gl-rl's); so step 3 checks
# that the native extension is built on first use.
npm install --ignore-scripts --no-audit --no-fund "$work/$tarball" >"$work/install.log" 2>&1 || {
  cat "$work/install.log"
  fail "npm install of the tarball"
}
echo "packed app: npm install $(since "$t0") s:"
sed 's/^/  | /' "$work/install.log"

echo "packed app: 1. the README snippet"
awk '/^## Use it from code/ { section = 1 } section && /^```ts/ { code = 1; next } code && /^```/ { exit } code' \
  "$root/README.md" >snippet.mjs
[ -s snippet.mjs ] || fail "README.md has no \`\`\`ts block under '## Use it from code'"
node snippet.mjs >snippet.out 2>snippet.err || {
  cat snippet.out snippet.err
  fail "the README snippet"
}
grep -q "SELECT" snippet.out || fail "the README snippet printed no SQL: $(cat snippet.out)"
head -c 300 snippet.out | sed 's/^/  | /'
echo "  | …"

echo "packed app: 1b. the snippet type-checks against the package's declarations (TypeScript, NodeNext)"
cp snippet.mjs snippet.ts
typescript="$(node -p "require('$root/package.json').devDependencies.typescript")"
npm install --no-save --no-audit --no-fund "typescript@$typescript" "@types/node@20" >/dev/null 2>&1 ||
  fail "npm install typescript@$typescript"
npx --no-install tsc --noEmit --strict --skipLibCheck --target es2022 --module nodenext --moduleResolution nodenext \
  --types node snippet.ts || fail "the README snippet does not type-check against gl-rl's declarations"

echo "packed app: 2. npx gl-rl ask, empty cache"
rm -rf "$GL_RL_CACHE_DIR"
t0="$(seconds)"
npx --no-install gl-rl ask "$question" >ask.out 2>ask.err || {
  cat ask.out ask.err
  fail "gl-rl ask"
}
elapsed="$(since "$t0")"
sed 's/^/  | /' ask.out ask.err
grep -q "^SELECT" ask.out || fail "gl-rl ask answered no SQL"
if grep -qiE "error|failed" ask.err; then fail "gl-rl ask printed an error-looking line on the happy path"; fi
awk -v e="$elapsed" -v l="$limit" 'BEGIN { exit !(e < l) }' || fail "the first ask took $elapsed s (limit $limit s)"
echo "packed app: first ask answered in $elapsed s"

echo "packed app: 3. npx gl-rl train sft --max-steps 2"
t0="$(seconds)"
npx --no-install gl-rl train sft --max-steps 2 --out runs/sft >sft.out 2>sft.err || {
  cat sft.out sft.err
  fail "gl-rl train sft"
}
sed 's/^/  | /' sft.err sft.out
[ -f runs/sft/model.gguf ] || [ -f runs/sft/adapter.gguf ] || fail "train sft wrote no model.gguf or adapter.gguf"
grep -q "native gradient extension" sft.err || fail "train sft did not say that it built the native extension"
echo "packed app: train sft --max-steps 2 in $(since "$t0") s"
echo "packed app: ok"
