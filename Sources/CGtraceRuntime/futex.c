/*
 * futex.c — libc's syscall() interposed, to record futex waits and wakes.
 *
 * Rust's std locks, parking_lot, Swift's Synchronization.Mutex, libstdc++'s
 * atomic waits and others call the kernel through syscall(SYS_futex, ...).
 * Every other syscall number goes straight through: `syscall` below is a few
 * instructions of assembly that compare the number with SYS_futex and, when
 * it differs, do exactly what glibc's syscall() does (same registers, same
 * stack use, errno from -result), so non-futex calls pay one compare and a
 * not-taken branch, and even syscall(SYS_vfork)/syscall(SYS_clone) behave as
 * with glibc. A futex call jumps (no new frame) to gt_futex_call, which sees
 * the seven integer arguments of a plain call: the variadic convention of
 * x86-64 passes them in the same registers and stack slot.
 *
 * Records (gtrace_format.h): FUTEX_WAIT before a waiting command, FUTEX_WOKE
 * after it (result 0 or -errno), FUTEX_WAKE for a waking command (timestamp
 * taken before the call, so that a wake precedes the return of the thread it
 * woke). Per event: a timestamp and one or two 32-byte records, no lock, no
 * malloc, no syscall beyond the futex itself; errno is set only from the
 * futex's own result, exactly as glibc does. A signal that interrupts the
 * wait reaches the program as without the preload (the kernel restarts the
 * same syscall instruction, or returns EINTR).
 *
 * Not recorded: programs that issue the syscall instruction themselves (Go,
 * static binaries, glibc's own pthread locks, which locks.c records),
 * futex_waitv (syscall 449: its waiters are in user memory the wrapper would
 * have to read), FUTEX_TRYLOCK_PI (never blocks). A futex call made in a
 * vfork child between vfork and exec is recorded in the parent thread's
 * buffer (no check: it would cost a getpid per event), like locks.c's events.
 * x86-64 only: elsewhere syscall() is not interposed.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#if defined(__x86_64__)

/* The kernel's result of a syscall with six arguments (no errno). */
static inline long gt_raw_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6) {
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ __volatile__("syscall"
                         : "=a"(ret)
                         : "0"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    return ret;
}

/* glibc's convention: -4095..-1 is -errno. */
static inline long gt_syscall_result(long r) {
    if (GT_UNLIKELY((unsigned long)r > -4096UL)) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/* The error tail of the assembly entry (non-futex numbers). */
GT_HIDDEN long gt_syscall_error(long r) {
    errno = (int)-r;
    return -1;
}

GT_HIDDEN long gt_futex_call(long n, long uaddr, long op, long val, long timeout, long uaddr2, long val3);

/* syscall(number, ...): glibc's sysdeps/unix/sysv/linux/x86_64/syscall.S
 * with one compare in front. */
__asm__(
    ".text\n"
    ".globl syscall\n"
    ".type syscall, @function\n"
    ".p2align 4\n"
    "syscall:\n"
    "    .cfi_startproc\n"
    "    endbr64\n"
    "    cmpq $" GT_STR(SYS_futex) ", %rdi\n"
    "    je gt_futex_call\n"
    "    movq %rdi, %rax\n"
    "    movq %rsi, %rdi\n"
    "    movq %rdx, %rsi\n"
    "    movq %rcx, %rdx\n"
    "    movq %r8, %r10\n"
    "    movq %r9, %r8\n"
    "    movq 8(%rsp), %r9\n"
    "    syscall\n"
    "    cmpq $-4095, %rax\n"
    "    jae 1f\n"
    "    ret\n"
    "1:  movq %rax, %rdi\n"
    "    jmp gt_syscall_error\n"
    "    .cfi_endproc\n"
    ".size syscall, .-syscall\n");

/* Is `cmd` a command that sleeps until woken (or one that wakes)? */
static inline int gt_futex_waits(int cmd) {
    return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI || cmd == 13 /* LOCK_PI2 */ ||
           cmd == FUTEX_WAIT_REQUEUE_PI;
}

static inline int gt_futex_wakes(int cmd) {
    return cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET || cmd == FUTEX_WAKE_OP || cmd == FUTEX_REQUEUE ||
           cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_UNLOCK_PI || cmd == FUTEX_CMP_REQUEUE_PI;
}

long gt_futex_call(long n, long uaddr, long op, long val, long timeout, long uaddr2, long val3) {
    uint64_t site = (uint64_t)(uintptr_t)__builtin_return_address(0);
    int cmd = (int)op & FUTEX_CMD_MASK;
    if (!gt_active() || !(gt_futex_waits(cmd) || gt_futex_wakes(cmd)))
        return gt_syscall_result(gt_raw_syscall6(n, uaddr, op, val, timeout, uaddr2, val3));
    uint64_t t0 = gtrace_timestamp();
    if (gt_futex_waits(cmd)) {
        gt_emit_ts(t0, GTRACE_RAW_FUTEX_WAIT, (uint16_t)op, (uint32_t)val, (uint64_t)uaddr, site);
        long r = gt_raw_syscall6(n, uaddr, op, val, timeout, uaddr2, val3);
        gt_emit(GTRACE_RAW_FUTEX_WOKE, (uint16_t)op, (uint32_t)r, (uint64_t)uaddr, t0);
        return gt_syscall_result(r);
    }
    long r = gt_raw_syscall6(n, uaddr, op, val, timeout, uaddr2, val3);
    gt_emit_ts(t0, GTRACE_RAW_FUTEX_WAKE, (uint16_t)op, (uint32_t)r, (uint64_t)uaddr, site);
    return gt_syscall_result(r);
}

#endif /* __x86_64__ */
