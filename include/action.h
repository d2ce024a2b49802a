/* action.h - what a rule does with a packet, and what an expectation
 * asserts: shared by the tree (ast.h), the IR (ir.h) and everything
 * after it, so that the IR's users need not see the tree. */
#ifndef PORTC_ACTION_H
#define PORTC_ACTION_H

enum action { ACT_ALLOW, ACT_DENY, ACT_REJECT };
const char *action_name(enum action a);

/* What an expectation asserts of every packet of its region: allowed
 * (with its DSCP mark and log, when it names them), denied, rejected, or
 * not allowed (denied or rejected). */
enum expect_kind { EXPECT_RULE, EXPECT_ALLOW, EXPECT_DENY, EXPECT_REJECT, EXPECT_NONE };
const char *expect_kind_name(enum expect_kind k);

#endif
