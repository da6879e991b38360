/* Small macros shared by the whole library: attributes, assertions, array
 * length. Everything here is header-only and free of state. */
#ifndef RS_CORE_COMMON_H
#define RS_CORE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Marks functions whose status must be checked by the caller. */
#define RS_MUST_USE __attribute__((warn_unused_result))
#define RS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define RS_NORETURN __attribute__((noreturn))
#define RS_LIKELY(x) __builtin_expect(!!(x), 1)
#define RS_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define RS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Aborts with file and line when an invariant is broken. Stays on in release
 * builds: it guards invariants only, never bad input (bad input is an error
 * value, see err.h). */
#define RS_ASSERT(cond)                                                      \
    do {                                                                     \
        if (RS_UNLIKELY(!(cond)))                                            \
            rs_assert_fail(#cond, __FILE__, __LINE__);                       \
    } while (0)

RS_NORETURN void rs_assert_fail(const char *expr, const char *file, int line);

/* The text of a macro's value: RS_XSTR(64) is "64". */
#define RS_STR(x) #x
#define RS_XSTR(x) RS_STR(x)

#endif
