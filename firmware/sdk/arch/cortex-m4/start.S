/* Start-up for the cortex-m4 machine: the vector table at 0 (the host loads SP and PC from it
   at boot and emulates entry to vector 16, IRQ 0, for host kicks), BSS cleared, main(). */
    .syntax unified
    .thumb
    .section .vectors, "a"
    .globl rproc_vectors
rproc_vectors:
    .word _stack_top
    .word rproc_reset
    .rept 14
    .word rproc_fault
    .endr
    .word rproc_irq0_handler

    .section .text.start, "ax"
    .thumb_func
    .globl rproc_reset
rproc_reset:
    cpsid i                     /* the emulated NVIC has IRQ 0 enabled from reset: mask it
                                   until rproc_platform_init, or a kick taken while BSS is
                                   cleared would be lost */
    ldr   r0, =_bss_start
    ldr   r1, =_bss_end
    movs  r2, #0
1:  cmp   r0, r1
    bhs   2f
    str   r2, [r0], #4
    b     1b
2:  bl    main
    ldr   r0, =0xDEAD0000       /* main returned */
    bl    rproc_abort
3:  b     3b

    .thumb_func
    .globl rproc_fault
rproc_fault:
    ldr   r0, =0xFA000000       /* a fault vector was taken: never by the host, but be safe */
    bl    rproc_abort
    b     rproc_fault
