/* The faulting instructions, per architecture (see crash.h). */
#if defined(__mips__)
    .set noreorder
    .text
    .globl crash_load
    .ent crash_load
crash_load:
    lw    $v0, 0($a0)
    jr    $ra
    nop
    .end crash_load
    .globl crash_store
    .ent crash_store
crash_store:
    sw    $zero, 0($a0)
    jr    $ra
    nop
    .end crash_store
    .globl crash_misaligned
    .ent crash_misaligned
crash_misaligned:
    lw    $v0, 0($a0)           /* AdEL when a0 is not word aligned */
    jr    $ra
    nop
    .end crash_misaligned
    .globl crash_invalid_instruction
    .ent crash_invalid_instruction
crash_invalid_instruction:
    .word 0xFFFFFFFF            /* reserved on MIPS32r2: RI */
    jr    $ra
    nop
    .end crash_invalid_instruction
#elif defined(__riscv)
    .text
    .globl crash_load
crash_load:
    lw    a0, 0(a0)
    ret
    .globl crash_store
crash_store:
    sw    zero, 0(a0)
    ret
    .globl crash_misaligned
crash_misaligned:
    amoadd.w a0, zero, (a0)     /* AMOs must be aligned (plain loads may not trap) */
    ret
    .globl crash_invalid_instruction
crash_invalid_instruction:
    .4byte 0x00000000           /* all zeros: defined illegal */
    ret
#elif defined(__arm__)
    .syntax unified
    .thumb
    .text
    .thumb_func
    .globl crash_load
crash_load:
    ldr   r0, [r0]
    bx    lr
    .thumb_func
    .globl crash_store
crash_store:
    str   r0, [r0]
    bx    lr
    .thumb_func
    .globl crash_misaligned
crash_misaligned:
    ldrex r0, [r0]              /* exclusives must be aligned (plain ldr may not trap) */
    bx    lr
    .thumb_func
    .globl crash_invalid_instruction
crash_invalid_instruction:
    udf   #0
    bx    lr
#elif defined(__x86_64__)
    .text
    .globl crash_load
crash_load:
    movl  %edi, %edi            /* the uint32_t address, zero-extended */
    movl  (%rdi), %eax
    ret
    .globl crash_store
crash_store:
    movl  %edi, %edi
    movl  $0, (%rdi)
    ret
    .globl crash_misaligned
crash_misaligned:
    movl  %edi, %edi
    movaps (%rdi), %xmm0        /* #GP unless 16-byte aligned: SIGSEGV */
    ret
    .globl crash_invalid_instruction
crash_invalid_instruction:
    ud2                         /* SIGILL */
    ret
    .section .note.GNU-stack,"",@progbits
#endif
