/* Start-up for the rv32 machine (machine mode): a stack, BSS cleared, main(); and the trap
   entry the SDK puts in mtvec (direct mode) for host kicks (supervisor software interrupts,
   taken in machine mode: docs/machines/rv32.md). */
    .section .text.start, "ax"
    .globl _start
_start:
    la    sp, _stack_top
    mv    s0, a0
    mv    s1, a1
    la    t0, _bss_start
    la    t1, _bss_end
1:  bgeu  t0, t1, 2f
    sw    zero, 0(t0)
    addi  t0, t0, 4
    j     1b
2:  la    t0, rproc_boot_args
    sw    s0, 0(t0)
    sw    s1, 4(t0)
    call  main
    li    a0, 0xDEAD0000        /* main returned */
    call  rproc_abort
3:  j     3b

    .text
    .balign 4
    .globl rproc_trap_entry
rproc_trap_entry:
    /* A host kick (supervisor software interrupt, mcause 0x80000001) only moves the mailbox's
       PENDING bits into rproc_kicks: done here with two guest stores instead of sixteen
       register saves and a C call, because every guest store costs ~100 ns on Unicorn 2.0.1
       (docs/benchmarks.md). Anything else takes the full path below. */
    csrw  mscratch, t0
    csrr  t0, mcause
    bgez  t0, 1f                /* a synchronous exception */
    andi  t0, t0, 0x7ff
    addi  t0, t0, -1
    bnez  t0, 1f                /* an interrupt other than a kick */
    addi  sp, sp, -16
    sw    t1, 0(sp)
    li    t0, 0x02000004        /* RPROC_MBOX_BASE + RPROC_MBOX_PENDING (machine.h); reading
                                   clears it and lowers mip.SSIP */
    lw    t0, 0(t0)
    la    t1, rproc_kicks
    amoor.w zero, t0, (t1)
    lw    t1, 0(sp)
    addi  sp, sp, 16
    csrr  t0, mscratch
    mret
1:  csrr  t0, mscratch
    addi  sp, sp, -64
    sw    ra, 0(sp)
    sw    t0, 4(sp)
    sw    t1, 8(sp)
    sw    t2, 12(sp)
    sw    a0, 16(sp)
    sw    a1, 20(sp)
    sw    a2, 24(sp)
    sw    a3, 28(sp)
    sw    a4, 32(sp)
    sw    a5, 36(sp)
    sw    a6, 40(sp)
    sw    a7, 44(sp)
    sw    t3, 48(sp)
    sw    t4, 52(sp)
    sw    t5, 56(sp)
    sw    t6, 60(sp)
    csrr  a0, mcause
    call  rproc_riscv_trap
    lw    ra, 0(sp)
    lw    t0, 4(sp)
    lw    t1, 8(sp)
    lw    t2, 12(sp)
    lw    a0, 16(sp)
    lw    a1, 20(sp)
    lw    a2, 24(sp)
    lw    a3, 28(sp)
    lw    a4, 32(sp)
    lw    a5, 36(sp)
    lw    a6, 40(sp)
    lw    a7, 44(sp)
    lw    t3, 48(sp)
    lw    t4, 52(sp)
    lw    t5, 56(sp)
    lw    t6, 60(sp)
    addi  sp, sp, 64
    mret
