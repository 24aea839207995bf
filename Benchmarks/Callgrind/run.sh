#!/bin/bash
# Instructions per message in the rpmsg-loopback loops, counted by callgrind: each loop
# runs twice, 20,000 and 120,000 messages (after 1,000 to warm up), only the loops are
# counted, and the difference is divided by 100,000. Repeatable whatever the load.
# Usage: Benchmarks/Callgrind/run.sh [LOOP...] [--unbiased]
#   LOOP: oneway32 oneway496 echo32 echo496 zerocopy496 (default: all five)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
flags=()
loops=()
for argument in "$@"; do
  if [ "$argument" = "--unbiased" ]; then flags+=(--unbiased); else loops+=("$argument"); fi
done
[ ${#loops[@]} -gt 0 ] || loops=(oneway32 oneway496 echo32 echo496 zerocopy496)
# DWARF 4: valgrind 3.19 cannot read the DWARF 5 the toolchain emits by default.
build=(swift build -c release -Xswiftc -dwarf-version=4 -Xcc -gdwarf-4)
"${build[@]}" 2>&1 | grep -E 'error|warning: unre' || true
driver=$("${build[@]}" --show-bin-path)/RPMsgLoopbackCallgrind
out=$(mktemp -d)
count() {
  # Only the message loops are counted (the driver's run function), not set-up or waiting.
  valgrind --tool=callgrind --toggle-collect='*RPMsgLoopbackCallgrind3run*' \
    --callgrind-out-file="$out/$1.$2.out" "$driver" "$1" "$2" "${flags[@]}" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for loop in "${loops[@]}"; do
  small=$(count "$loop" 20000)
  large=$(count "$loop" 120000)
  echo "$loop ${flags[*]} $(( (large - small) / 100000 )) instructions/message"
done
echo "(callgrind outputs in $out: callgrind_annotate $out/<loop>.120000.out)"
