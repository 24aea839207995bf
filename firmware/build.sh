#!/usr/bin/env bash
# Builds the remote-side SDK and every example firmware for every emulated machine:
#   firmware/build/<example>-<machine>.elf   machines: mips32 mips32be rv32 cortex-m4
# plus case-invert-legacy-<machine>.elf (vrings ask for address 0) and, when the toolchain has
# Embedded Swift, rpmsg-echo-swift-<machine>.elf for rv32 and cortex-m4; and for the native
# machine (a Linux process under the process platform): rpmsg-echo-native.elf,
# crashy-native.elf, crashy-mute-native.elf (never acknowledges its host), rpmsg-bench-native.elf,
# and the benchmark baselines pingpong-native.
# Uses the Swift toolchain's clang and ld.lld (CLANG, LLD, SWIFTC override). Idempotent:
# everything is rebuilt into a scratch directory and moved into place only when all succeeded;
# it does nothing when the outputs are newer than every input. Fails loudly.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/build"
wire="$here/../Sources/CRemoteprocWire/include"

find_tool() { # name, override
  if [[ -n "${2:-}" ]]; then echo "$2"; return; fi
  if command -v swift >/dev/null 2>&1; then
    local dir; dir="$(dirname "$(readlink -f "$(command -v swift)")")"
    if [[ -x "$dir/$1" ]]; then echo "$dir/$1"; return; fi
  fi
  if [[ -x "/opt/swift/usr/bin/$1" ]]; then echo "/opt/swift/usr/bin/$1"; return; fi
  command -v "$1" || { echo "build.sh: $1 not found (set ${1^^})" >&2; exit 1; }
}
CLANG="$(find_tool clang "${CLANG:-}")"
LLD="$(find_tool ld.lld "${LLD:-}")"
SWIFTC="$(find_tool swiftc "${SWIFTC:-}" 2>/dev/null || true)"

machines=(mips32 mips32be rv32 cortex-m4)
examples=(case-invert rpmsg-echo crashy)

target_flags() {
  case "$1" in
    mips32) echo "--target=mipsel-none-elf -march=mips32r2 -mabi=32 -mno-abicalls -fno-pic -G0 -msoft-float" ;;
    mips32be) echo "--target=mips-none-elf -march=mips32r2 -mabi=32 -mno-abicalls -fno-pic -G0 -msoft-float" ;;
    rv32) echo "--target=riscv32-none-elf -march=rv32imac -mabi=ilp32 -mno-relax -mcmodel=medany" ;;
    cortex-m4) echo "--target=thumbv7em-none-eabi -mcpu=cortex-m4 -mthumb -mfloat-abi=soft" ;;
  esac
}
arch_dir() { case "$1" in mips32|mips32be) echo mips32 ;; *) echo "$1" ;; esac; }

# One build at a time (test targets in one process, or several processes, may all call this):
# a second caller waits, then finds the images up to date.
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

# Up to date?
newest_input="$(find "$here/sdk" "$here/examples" "$here/bench" "$wire" "$here/build.sh" -type f -printf '%T@\n' | sort -n | tail -1)"
if [[ -d "$out" && -f "$out/.stamp" ]]; then
  stamp="$(stat -c '%Y' "$out/.stamp")"
  if (( ${newest_input%.*} < stamp )); then
    echo "firmware: up to date in $out"
    exit 0
  fi
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# -fomit-frame-pointer: clang keeps $fp on MIPS otherwise, one more guest store per call, and
# guest stores are the dominant cost on Unicorn 2.0.1 (docs/benchmarks.md).
cflags_common=(-std=c11 -O2 -g -fomit-frame-pointer -ffreestanding -fno-builtin -nostdlib -fno-common -Wall -Wextra -Werror
  -I "$here/sdk/include" -I "$wire")

build_c() { # machine, output name, sources... (after --), extra flags before --
  local machine="$1" name="$2"; shift 2
  local extra=()
  while [[ "$1" != "--" ]]; do extra+=("$1"); shift; done
  shift
  local arch; arch="$(arch_dir "$machine")"
  local objdir="$scratch/$name-$machine"
  mkdir -p "$objdir"
  local objects=()
  # shellcheck disable=SC2046
  for src in "$here/sdk/arch/$arch/start.S" "$here"/sdk/src/*.c "$@"; do
    local obj="$objdir/$(basename "$(dirname "$src")")-$(basename "$src").o"
    "$CLANG" $(target_flags "$machine") "${cflags_common[@]}" "${extra[@]}" -c "$src" -o "$obj"
    objects+=("$obj")
  done
  "$LLD" -T "$here/sdk/arch/$arch/link.ld" -z max-page-size=4096 -z norelro --gc-sections \
    "${objects[@]}" -o "$scratch/$name-$machine.elf"
}

for machine in "${machines[@]}"; do
  for example in "${examples[@]}"; do
    sources=("$here/examples/$example"/*.c)
    [[ -f "$here/examples/$example/crash.S" ]] && sources+=("$here/examples/$example/crash.S")
    build_c "$machine" "$example" -I "$here/examples/$example" -- "${sources[@]}"
  done
  build_c "$machine" case-invert-legacy -DRPROC_LEGACY_VRINGS -- "$here/examples/case-invert/main.c"
done

# Embedded Swift: rpmsg-echo for rv32 and cortex-m4, over the C SDK.
if [[ -n "$SWIFTC" && -f "$here/examples/rpmsg-echo-swift/main.swift" ]]; then
  for machine in rv32 cortex-m4; do
    case "$machine" in
      rv32) swift_target=riscv32-none-none-eabi; extra_swift=(-Xcc -march=rv32imac -Xcc -mabi=ilp32) ;;
      cortex-m4) swift_target=armv7em-none-none-eabi; extra_swift=(-Xcc -mcpu=cortex-m4 -Xcc -mfloat-abi=soft) ;;
    esac
    objdir="$scratch/rpmsg-echo-swift-$machine"
    mkdir -p "$objdir"
    "$SWIFTC" -swift-version 5 -enable-experimental-feature Embedded -target "$swift_target" -wmo -Osize \
      -parse-as-library -Xfrontend -function-sections "${extra_swift[@]}" \
      -Xcc -I"$here/sdk/include" -Xcc -I"$wire" -I "$here/examples/rpmsg-echo-swift" \
      -c "$here/examples/rpmsg-echo-swift/main.swift" -o "$objdir/main.o"
    objects=("$objdir/main.o")
    for src in "$here/sdk/arch/$machine/start.S" "$here"/sdk/src/*.c "$here"/examples/rpmsg-echo-swift/*.c; do
      [[ -f "$src" ]] || continue
      obj="$objdir/$(basename "$src").o"
      "$CLANG" $(target_flags "$machine") "${cflags_common[@]}" -c "$src" -o "$obj"
      objects+=("$obj")
    done
    "$LLD" -T "$here/sdk/arch/$machine/link.ld" -z max-page-size=4096 -z norelro --gc-sections \
      "${objects[@]}" -o "$scratch/rpmsg-echo-swift-$machine.elf"
  done
else
  echo "firmware: swiftc not found: skipping the Embedded Swift firmware" >&2
fi

# The native machine (process platform): the SDK built for this host as a normal Linux
# process (static, libc), with .resource_table on a page of its own (shared.ld); and the
# baseline ping-pong programs of `rproc bench rpmsg-process`.
host_arch="$(uname -m)"
case "$host_arch" in
  x86_64|aarch64)
    native_flags=(--target="$host_arch-linux-gnu" -std=c11 -O2 -g -D_GNU_SOURCE -DRPROC_NATIVE
      -Wall -Wextra -Werror -fno-common -I "$here/sdk/include" -I "$wire")
    build_native() { # output name, extra flags..., --, sources...
      local name="$1"; shift
      local extra=()
      while [[ "$1" != "--" ]]; do extra+=("$1"); shift; done
      shift
      local objdir="$scratch/$name-native"
      mkdir -p "$objdir"
      local objects=()
      for src in "$here/sdk/arch/native/start.c" "$here"/sdk/src/*.c "$@"; do
        local obj="$objdir/$(basename "$(dirname "$src")")-$(basename "$src").o"
        "$CLANG" "${native_flags[@]}" "${extra[@]}" -c "$src" -o "$obj"
        objects+=("$obj")
      done
      "$CLANG" --target="$host_arch-linux-gnu" -fuse-ld=lld -static \
        -Wl,-T,"$here/sdk/arch/native/shared.ld" "${objects[@]}" -o "$scratch/$name-native.elf"
    }
    build_native rpmsg-echo -- "$here/examples/rpmsg-echo/main.c"
    build_native crashy -I "$here/examples/crashy" -- "$here/examples/crashy/main.c" \
      "$here/examples/crashy/crash.S"
    build_native crashy-mute -I "$here/examples/crashy" -DCRASHY_NEVER_READY -- \
      "$here/examples/crashy/main.c" "$here/examples/crashy/crash.S"
    build_native rpmsg-bench -- "$here/examples/rpmsg-bench/main.c"
    "$CLANG" --target="$host_arch-linux-gnu" -std=c11 -O2 -Wall -Wextra -Werror \
      -fuse-ld=lld "$here/bench/pingpong.c" -o "$scratch/pingpong-native"
    ;;
  *)
    echo "firmware: no native build for $host_arch (x86_64 and aarch64 only)" >&2
    ;;
esac

mkdir -p "$out"
cp "$scratch"/*.elf "$out/"
if [[ -f "$scratch/pingpong-native" ]]; then cp "$scratch/pingpong-native" "$out/"; fi
touch "$out/.stamp"
echo "firmware: built $(ls "$scratch"/*.elf | wc -l) images in $out"
