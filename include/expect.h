/* expect.h - expectations, checked over their whole regions.
 *
 * `expect allow SRC -> DST SERVICES [dscp D] [log];` asserts that the
 * policy allows every packet of the region (marked D, logged, when the
 * expectation says so); `expect deny` and `expect reject` that it denies
 * or rejects every one; `expect none` that it allows none. An expectation
 * is checked against the policy's rules exactly (classify.h): it holds,
 * or a packet of its region is decided otherwise, and that packet and the
 * rule that decides it are the error. Expectations compile to nothing. */
#ifndef PORTC_EXPECT_H
#define PORTC_EXPECT_H

#include <stdbool.h>

#include "diag.h"
#include "ir.h"

/* Checks every expectation of pol; an error (at the expectation, with a
 * note at the deciding rule) for each that fails. Returns how many fail. */
size_t expect_check_policy(const struct ir_policy *pol, struct diag *d);

#endif
