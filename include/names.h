/* names.h - the built-in name tables (DSCP, ICMP types, IP protocols). */
#ifndef PORTC_NAMES_H
#define PORTC_NAMES_H

/* Each returns -1 for an unknown name. */
int dscp_by_name(const char *name);
int icmp_type_by_name(int family, const char *name);	/* family 4 or 6 */
int proto_by_name(const char *name);

/* Canonical names, or NULL when a value has none. */
const char *dscp_name(int value);
const char *icmp_type_name(int family, int type);
const char *proto_name(int number);

/* For "did you mean": the closest name in a table, or NULL. */
const char *dscp_suggest(const char *name);
const char *icmp_type_suggest(int family, const char *name);
const char *proto_suggest(const char *name);

#endif
