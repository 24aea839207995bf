/*
 * shim.h: Unicorn (Debian libunicorn-dev 2.0.1, found by pkg-config) plus typed, non-variadic
 * wrappers for the calls Swift and our C shim cannot make directly: uc_hook_add is variadic
 * (instruction hooks take an extra argument), and uc_ctl's setters are macros.
 *
 * Only CRemoteprocEmulatedShims calls into this header; Swift sees Unicorn's register enums
 * through it and nothing that takes a pointer.
 */
#ifndef RPROC_CUNICORN_SHIM_H
#define RPROC_CUNICORN_SHIM_H

#include <unicorn/unicorn.h>

/** uc_hook_add for UC_HOOK_BLOCK / UC_HOOK_CODE over [begin, end]. */
static inline uc_err rproc_uc_hook_add_code(uc_engine *uc, uc_hook *hook, int type,
                                            uc_cb_hookcode_t callback, void *user_data,
                                            uint64_t begin, uint64_t end) {
  return uc_hook_add(uc, hook, type, (void *)callback, user_data, begin, end);
}

/** uc_hook_add for UC_HOOK_MEM_READ / UC_HOOK_MEM_WRITE over every address. */
static inline uc_err rproc_uc_hook_add_memory(uc_engine *uc, uc_hook *hook, int type,
                                              uc_cb_hookmem_t callback, void *user_data) {
  return uc_hook_add(uc, hook, type, (void *)callback, user_data, 1, 0);
}

/** uc_hook_add for UC_HOOK_INTR. */
static inline uc_err rproc_uc_hook_add_interrupt(uc_engine *uc, uc_hook *hook,
                                                 uc_cb_hookintr_t callback, void *user_data) {
  return uc_hook_add(uc, hook, UC_HOOK_INTR, (void *)callback, user_data, 1, 0);
}

/** uc_hook_add for the invalid-memory family (UC_HOOK_MEM_*_UNMAPPED / _PROT). */
static inline uc_err rproc_uc_hook_add_invalid_memory(uc_engine *uc, uc_hook *hook, int type,
                                                      uc_cb_eventmem_t callback,
                                                      void *user_data) {
  return uc_hook_add(uc, hook, type, (void *)callback, user_data, 1, 0);
}

/** uc_hook_add for UC_HOOK_INSN_INVALID. */
static inline uc_err rproc_uc_hook_add_invalid_instruction(uc_engine *uc, uc_hook *hook,
                                                           uc_cb_hookinsn_invalid_t callback,
                                                           void *user_data) {
  return uc_hook_add(uc, hook, UC_HOOK_INSN_INVALID, (void *)callback, user_data, 1, 0);
}

/** uc_ctl_set_cpu_model: must come right after uc_open. */
static inline uc_err rproc_uc_set_cpu_model(uc_engine *uc, int model) {
  return uc_ctl_set_cpu_model(uc, model);
}

/** uc_ctl_exits_enable: `until` of uc_emu_start is ignored and only the (empty) exits list
 *  stops the guest. Without it, every return from uc_emu_start invalidates the translation of
 *  the page holding `until` (Unicorn 2.0.1 `resume_all_vcpus`), a TLB fill and a page walk
 *  that cost microseconds per return. */
static inline uc_err rproc_uc_exits_enable(uc_engine *uc) {
  return uc_ctl_exits_enable(uc);
}

#endif
