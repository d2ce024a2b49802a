/* fuzz_ipt.c - libFuzzer target for the iptables reader (ipt_table.h).
 *
 * The input is what iptables-save, ip6tables-save and ipset save print,
 * the three separated by NUL bytes. It is read for the policy whose stem
 * its first ":PORTC-STEM-" chain names ("p" without one), and what it
 * holds of that policy's is lifted into the packet model (lift.h): never
 * a crash, a hang or a read out of bounds, whatever the kernel's tools
 * (or someone who can write to their output) print. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipt_table.h"
#include "lift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
	size_t n = z ? (size_t)(z - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	memcpy(s, *p, n);
	s[n] = 0;
	*p = z ? z + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct ipt_listing l;
	l.save[0] = part(&p, end);
	l.save[1] = part(&p, end);
	l.sets = part(&p, end);
	char stem[32] = "p";
	const char *c = strstr(l.save[0], ":PORTC-");
	if (c) {
		size_t n = strcspn(c + 7, "- \n");
		if (n && n < sizeof stem && c[7 + n] == '-') {
			memcpy(stem, c + 7, n);
			stem[n] = 0;
		}
	}
	struct nft_table t;
	bool present;
	char *why = NULL;
	if (ipt_table_build(stem, &l, &t, &present, &why)) {
		if (present) {
			struct lift lf;
			nft_lift(&t, "kernel", true, &lf);
			lift_free(&lf);
		}
		nft_table_free(&t);
	}
	free(why);
	ipt_listing_free(&l);
	return 0;
}
