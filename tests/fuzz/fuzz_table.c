/* fuzz_table.c - libFuzzer target for libportc's loader and lookups.
 *
 * Any bytes: portc_table_load must refuse them with a message or load
 * them, never crash, read out of bounds or hang; a table that loads is
 * queried with packets made from the input, one by one and in batches,
 * with the AVX2 leaf check and without, and every way must give the same
 * answers (a lookup trusts what the loader checked, so a hole in the
 * checks shows here as a crash or a disagreement).
 *
 * The CRC and the size field are set to match the mutated bytes before
 * loading: otherwise nearly every mutation dies at the checksum, and the
 * checks behind it (sections, nodes, depth, cuts) go unfuzzed. The
 * checksum itself is tested by tests/table's corrupted tables. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portc/match.h"
#include "portc/table_format.h"

enum { NPKT = 64 };

static struct portc_table *load(const uint8_t *buf, size_t len, int no_avx2)
{
	if (no_avx2)
		setenv("PORTC_NO_AVX2", "1", 1);
	else
		unsetenv("PORTC_NO_AVX2");
	struct portc_table *t = NULL;
	char err[256] = "";
	if (portc_table_load(buf, len, &t, err, sizeof err) != 0) {
		if (t || !err[0]) {
			fprintf(stderr, "a refused table without a message, or with a table\n");
			abort();
		}
		return NULL;
	}
	return t;
}

/* Packets from the input's bytes, then the edges of every field. */
static void packets(const uint8_t *data, size_t size, struct portc_tuple *k)
{
	for (int i = 0; i < NPKT; i++) {
		uint8_t raw[sizeof *k];
		for (size_t j = 0; j < sizeof raw; j++)
			raw[j] = size ? data[(i * 41 + j * 7) % size] ^ (uint8_t)(i * j) : 0;
		memcpy(&k[i], raw, sizeof raw);
		k[i].family = i % 2 ? 6 : 4;
		if (i >= NPKT - 8) {	/* all zeros and all ones, each family */
			memset(k[i].src, i % 4 < 2 ? 0 : 0xFF, 16);
			memset(k[i].dst, i % 4 < 2 ? 0 : 0xFF, 16);
			k[i].sport = k[i].dport = i % 4 < 2 ? 0 : 65535;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	uint8_t *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	if (size >= sizeof(struct ptab_header)) {
		struct ptab_header *h = (struct ptab_header *)buf;
		h->file_size = size;
		h->crc32c = 0;
		h->crc32c = portc_crc32c(0, buf, size);
	}
	struct portc_table *t = load(buf, size, 0);
	struct portc_table *u = load(buf, size, 1);
	if (!t != !u) {
		fprintf(stderr, "the table loads with AVX2 %s but not %s\n", t ? "on" : "off",
			t ? "off" : "on");
		abort();
	}
	if (t) {
		struct portc_tuple k[NPKT];
		struct portc_result one[NPKT], batch[NPKT], plain[NPKT];
		packets(data, size, k);
		for (int i = 0; i < NPKT; i++)
			portc_classify(t, &k[i], &one[i]);
		portc_classify_batch(t, k, NPKT, batch);
		portc_classify_batch(u, k, NPKT, plain);
		for (int i = 0; i < NPKT; i++) {
			if (one[i].rule != batch[i].rule || one[i].rule != plain[i].rule ||
			    one[i].action != batch[i].action || one[i].dscp != plain[i].dscp) {
				fprintf(stderr, "packet %d: rule %u one by one, %u in a batch, %u "
					"without AVX2\n", i, one[i].rule, batch[i].rule, plain[i].rule);
				abort();
			}
			if (one[i].rule != PORTC_DEFAULT_RULE && one[i].rule >= portc_table_rules(t)) {
				fprintf(stderr, "packet %d: rule %u of %u\n", i, one[i].rule,
					portc_table_rules(t));
				abort();
			}
		}
		(void)portc_table_memory(t);
	}
	portc_table_free(t);
	portc_table_free(u);
	free(buf);
	return 0;
}
