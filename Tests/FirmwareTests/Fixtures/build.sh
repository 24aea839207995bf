#!/bin/bash
# Rebuilds the committed fixture ELFs from fixture.c with the Swift toolchain's clang and
# ld.lld. Run from anywhere; outputs land beside this script. The tests use the committed
# files, so this only needs running when fixture.c changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wire="$here/../../../Sources/CRemoteprocWire/include"
build() {  # name target base [extra clang flags...]
  local name=$1 target=$2 base=$3; shift 3
  clang --target="$target" -ffreestanding -fno-pic -nostdlib -O1 -std=c11 -Wall -Werror -Wno-gnu-variable-sized-type-not-at-end \
    -I"$wire" -DFIXTURE_BASE="$base" "$@" -c "$here/fixture.c" -o "$here/$name.o"
  ld.lld -static --defsym=FIXTURE_BASE="$base" -T "$here/fixture.ld" -z max-page-size=16 -z common-page-size=16 \
    "$here/$name.o" -o "$here/$name.elf"
  rm "$here/$name.o"
}
build mipsel     mipsel-none-elf      0x80000000 -march=mips32r2
build mips       mips-none-elf        0x80000000 -march=mips32r2
build riscv32    riscv32-none-elf     0x80000000 -march=rv32imac -mabi=ilp32
build thumbv7em  thumbv7em-none-eabi  0x00000000 -mcpu=cortex-m4 -mthumb
build x86_64     x86_64-linux-gnu     0x400000   -fno-stack-protector
build aarch64    aarch64-linux-gnu    0x400000   -fno-stack-protector
