/* Start-up for the mips32/mips32be machines: UHI coprocessor entry (a0 = -3, a1 = IPI
   host→remote, a2 = IPI remote→host, a3 = 0), a stack, BSS cleared, main(). */
    .set noreorder
    .section .text.start, "ax"
    .globl _start
    .ent _start
_start:
    move  $s0, $a0
    move  $s1, $a1
    move  $s2, $a2
    move  $s3, $a3
    la    $sp, _stack_top
    la    $t0, _bss_start
    la    $t1, _bss_end
1:  beq   $t0, $t1, 2f
    nop
    sw    $zero, 0($t0)
    b     1b
    addiu $t0, $t0, 4
2:  la    $t0, rproc_boot_args
    sw    $s0, 0($t0)
    sw    $s1, 4($t0)
    sw    $s2, 8($t0)
    sw    $s3, 12($t0)
    la    $t9, main
    jalr  $t9
    nop
    lui   $a0, 0xDEAD           /* main returned: abort 0xDEAD0000 */
    la    $t9, rproc_abort
    jalr  $t9
    nop
3:  b     3b
    nop
    .end _start
