/* crash.h: the faulting instructions of crashy, each the first instruction of its function so
   that even a block-precise PC (Unicorn data faults, MIPS exceptions) is exact. */
#ifndef CRASHY_CRASH_H
#define CRASHY_CRASH_H

#include <stdint.h>

uint32_t crash_load(uint32_t address);          /* load from address */
void crash_store(uint32_t address);             /* store to address */
uint32_t crash_misaligned(uint32_t address);    /* alignment-checked access at address */
void crash_invalid_instruction(void);

#endif
