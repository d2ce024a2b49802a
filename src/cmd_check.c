/* cmd_check.c - portc check: run the front end over each file. */
#include <string.h>

#include "cli.h"

int cmd_check(struct cli_opts *o)
{
	if (o->dump && strcmp(o->dump, "ast") != 0 && strcmp(o->dump, "ir") != 0) {
		diag_plain("--dump takes ast or ir");
		return EXIT_USAGE;
	}
	bool want_ir = o->dump && strcmp(o->dump, "ir") == 0;
	int worst = EXIT_OK;
	/* Each file is its own compilation: two files may well define the
	 * same names. */
	for (int i = 0; i < o->argc; i++) {
		struct diag d;
		cli_diag_init(&d, o);
		struct unit u;
		int r = driver_run(&u, &d, o, o->argv[i], want_ir);
		if (r == EXIT_OK && o->dump) {
			if (want_ir)
				ir_dump(&u.ir, stdout, true);
			else
				ast_dump(u.files[u.nfiles - 1], stdout);
		}
		unit_free(&u);
		diag_free(&d);
		if (r > worst)
			worst = r;
	}
	return worst;
}
