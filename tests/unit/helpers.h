/* helpers.h - what the unit tests share: compile a policy given as text,
 * look at the diagnostics it produced, write a packet. */
#ifndef PORTC_TEST_HELPERS_H
#define PORTC_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "eval.h"
#include "unit.h"

/* A packet as query takes it: pkt("tcp", "192.0.2.1:40000", "[...]:443")
 * (hop limit 64, a new flow, not on lo). */
static inline struct packet pkt(const char *proto, const char *src, const char *dst)
{
	struct packet p = { 0 };
	int f1, f2, sp, dp;
	p.proto = packet_parse_proto(proto);
	assert_null(packet_parse_endpoint(src, &f1, &p.src, &sp));
	assert_null(packet_parse_endpoint(dst, &f2, &p.dst, &dp));
	assert_int_equal(f1, f2);
	p.family = f1;
	p.sport = (uint16_t)(sp < 0 ? 0 : sp);
	p.dport = (uint16_t)(dp < 0 ? 0 : dp);
	p.hoplimit = 64;
	return p;
}

struct compiled {
	struct unit u;
	struct diag d;
	int rc;
	char path[64];
};

/* Writes text to a temporary .pol file and runs load, check and lower on it
 * (as `portc check`, or with require_params as `portc query`). */
static inline struct compiled *compile_text(const char *text, const char **defines, size_t ndef,
					    bool require_params)
{
	struct compiled *c = calloc(1, sizeof *c);
	snprintf(c->path, sizeof c->path, "/tmp/portc-unit-XXXXXX.pol");
	int fd = mkstemps(c->path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct cli_opts o;
	memset(&o, 0, sizeof o);
	memset(o.diag.enabled, -1, sizeof o.diag.enabled);
	for (size_t i = 0; i < ndef; i++) {
		const char *eq = strchr(defines[i], '=');
		o.defines[i].name = strndup(defines[i], (size_t)(eq - defines[i]));
		o.defines[i].value = eq + 1;
	}
	o.ndefines = ndef;
	diag_init(&c->d);
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");	/* the records are what we look at */
	c->rc = driver_run(&c->u, &c->d, &o, c->path, require_params);
	fclose(stderr);
	stderr = saved;
	for (size_t i = 0; i < ndef; i++)
		free((char *)o.defines[i].name);
	return c;
}

static inline void compiled_free(struct compiled *c)
{
	unlink(c->path);
	unit_free(&c->u);
	diag_free(&c->d);
	free(c);
}

/* The first record whose message contains needle, or NULL. */
static inline const struct diag_record *find_diag(const struct compiled *c, enum diag_level level,
						  const char *needle)
{
	for (size_t i = 0; i < c->d.nrecs; i++)
		if (c->d.recs[i]->level == level && strstr(c->d.recs[i]->msg, needle))
			return c->d.recs[i];
	return NULL;
}

static inline size_t count_diags(const struct compiled *c, enum diag_level level)
{
	size_t n = 0;
	for (size_t i = 0; i < c->d.nrecs; i++)
		n += c->d.recs[i]->level == level;
	return n;
}

#endif
