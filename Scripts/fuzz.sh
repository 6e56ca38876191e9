#!/usr/bin/env bash
# libFuzzer on the desired-state readers (Fuzz/): builds the fuzzer apart from the main build,
# seeds a corpus from Examples/ and Desired/, and fuzzes for FUZZ_SECONDS (default 60).
# Crashes, timeouts and out-of-memory inputs are written to .build-fuzz/artifacts/; replay one
# with `.build-fuzz/release/DesiredStateFuzzer FILE`. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
out=.build-fuzz

"$SWIFT" build --package-path Fuzz -c release --scratch-path "$out" \
  -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xcc -fsanitize=fuzzer-no-link

# Seeds: every desired-state file of the repository, a first byte `t` for TOML, `y` for YAML.
mkdir -p "$out/seeds" "$out/corpus" "$out/artifacts"
for file in Examples/*/*.yaml Examples/*/*.toml Desired/*.yaml; do
  case "$file" in Examples/kubernetes/*|Examples/node-config/*) continue ;; esac
  name=$(echo "$file" | tr '/' '_')
  case "$file" in
    *.toml) { printf 't'; cat "$file"; } > "$out/seeds/$name" ;;
    *) { printf 'y'; cat "$file"; } > "$out/seeds/$name" ;;
  esac
done

exec "$out/release/DesiredStateFuzzer" "$out/corpus" "$out/seeds" \
  -dict=Fuzz/desired-state.dict -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -artifact_prefix="$out/artifacts/" -print_final_stats=1 ${FUZZ_ARGS:-}
