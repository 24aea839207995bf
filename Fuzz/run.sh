#!/bin/bash
# Builds the libFuzzer harness and fuzzes ELF + resource-table parsing for SECONDS
# (default 60). Seeds: the test fixtures and tables from Fuzz/seeds. New corpus entries
# and any crash reproducer land in Fuzz/corpus and Fuzz/crashes (both git-ignored).
# Usage: Fuzz/run.sh [SECONDS]
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
swift build -c release --product FirmwareFuzzer -Xswiftc -sanitize=fuzzer 2>&1 | grep -Ev '^(\[|Building|Compiling|Write|Linking|Planning)' || true
fuzzer=$(swift build -c release --show-bin-path)/FirmwareFuzzer
[ -x "$fuzzer" ] || { echo "fuzz: build failed" >&2; exit 1; }
mkdir -p corpus crashes
"$fuzzer" -max_total_time="$seconds" -max_len=16384 -timeout=5 -print_final_stats=1 \
  -artifact_prefix=crashes/ corpus seeds ../Tests/FirmwareTests/Fixtures 2>&1 |
  grep -E 'Done|stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|crash|deadly' || true
# libFuzzer exits non-zero and writes crashes/crash-* when an input traps.
if ls crashes/ 2>/dev/null | grep -q .; then
  echo "fuzz: FAILED, reproducers in $here/crashes:" >&2
  ls crashes >&2
  exit 1
fi
echo "fuzz: no crash in ${seconds}s"
