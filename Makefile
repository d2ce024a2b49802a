# portc - a compiler for port policies.
#
#   make            build build/portc
#   make demo       check, query and compile the bundled policies
#   make check      run every test (SANITIZE=1 for ASan+UBSan)
#   make bench      lint against a brute-force baseline, and matching tables
#                   against a linear scan and DPDK's rte_acl, at 1k/10k/100k rules
#   make bench-ab   libportc of AB_BASE (default HEAD) against the working tree, in one process
#   make fuzz       build the parser fuzzer and run it for a while
#   make install    install under $(PREFIX) (DESTDIR honoured)
#
# Build dependencies are checked first (scripts/deps.sh), the tests' own
# tools only by the check targets: as root on Debian they are installed with
# apt-get, elsewhere the install command is printed.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/portc
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/portc
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
DESTDIR   ?=

CC        ?= cc
FLEX      ?= flex
BISON     ?= bison
CFLAGS    ?= -O2 -g
SANITIZE  ?=

ifeq ($(SANITIZE),1)
BUILD     ?= build-san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD     ?= build
SANFLAGS  :=
endif

# Our code builds with every warning an error; the generated scanner and
# parser get the compiler's defaults, since we do not own their text.
WARN      := -Wall -Wextra -Werror -Wswitch -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS  += -Iinclude -I$(BUILD) -D_GNU_SOURCE \
             -DPORTC_VERSION='"$(VERSION)"' -DPORTC_STDLIB_DIR='"$(DATADIR)/stdlib"'
ALL_CFLAGS = -std=c11 $(CFLAGS) $(SANFLAGS)
LDLIBS    := -lcidr -ljansson
LDFLAGS   += $(SANFLAGS)

SRCS      := $(filter-out src/main.c,$(wildcard src/*.c))
OBJS      := $(SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/parser.o $(BUILD)/lexer.o
CORE      := $(BUILD)/libportc-core.a
PORTC     := $(BUILD)/portc
# libportc: load and query matching tables; depends on nothing of the compiler
LIB_A     := $(BUILD)/libportc.a
LIB_SO    := $(BUILD)/libportc.so
LIB_OBJS  := $(BUILD)/lib/table_load.o $(BUILD)/lib/table_lookup.o
# The layering the build enforces: the backends work on the checked IR and
# never see the syntax tree (ast.h refuses to be included under
# PORTC_NO_AST); libportc sees its own public headers only.
BACKEND_OBJS := $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/emit_*.c) src/table_build.c src/table_settle.c \
                src/backend.c src/ipt_loader.c)
$(BACKEND_OBJS): CPPFLAGS += -DPORTC_NO_AST

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# tools of the kernel tests (tests/kernel/)
KTOOLS    := $(BUILD)/tests/pkt $(BUILD)/tests/diffgen $(BUILD)/tests/liftcheck
TTOOLS    := $(BUILD)/tests/tablecheck
# portc diff against brute force (tests/diff/)
DTOOLS    := $(BUILD)/tests/diffcheck

.PHONY: all deps deps-test deps-bench check check-unit check-golden check-kernel check-kernel-long check-ansible check-sanitize demo docs bench bench-lint bench-table bench-sets bench-estate bench-diff bench-ab fuzz install clean
.DEFAULT_GOAL := all

all: deps $(PORTC) $(LIB_A) $(LIB_SO)

deps:
	@sh scripts/deps.sh build
# the tests' own tools (nft, iptables, clang, valgrind, ...), for make check
deps-test: deps
	@sh scripts/deps.sh test

# Everything built waits for the dependency check, also under make -j.
$(BUILD)/.dir: | deps
	@mkdir -p $(BUILD)/tests && touch $@

$(BUILD)/parser.c: grammar/parser.y | $(BUILD)/.dir
	$(BISON) -Wall -Werror --header=$(BUILD)/parser.h -o $@ $<
$(BUILD)/parser.h: $(BUILD)/parser.c ;

$(BUILD)/lexer.c: grammar/lexer.l $(BUILD)/parser.h | $(BUILD)/.dir
	$(FLEX) -o $@ $<

$(BUILD)/parser.o: $(BUILD)/parser.c
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<
$(BUILD)/lexer.o: $(BUILD)/lexer.c
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -Wno-unused-function -c -o $@ $<

# The stdlib's installed path is compiled into load.o: a stamp holding it
# rebuilds load.o when PREFIX or DATADIR changes (`make install
# PREFIX=/usr` after a plain `make` must not keep /usr/local).
$(BUILD)/datadir.stamp: FORCE | $(BUILD)/.dir
	@echo '$(DATADIR)' | cmp -s - $@ 2>/dev/null || echo '$(DATADIR)' > $@
$(BUILD)/load.o: $(BUILD)/datadir.stamp
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: src/%.c $(BUILD)/parser.h | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) $(WARN) $(CPPFLAGS) -MMD -MP -c -o $@ $<

$(CORE): $(OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/lib/%.o: src/lib/%.c | $(BUILD)/.dir
	@mkdir -p $(@D) $(BUILD)/public
	@ln -sfn $(CURDIR)/include/portc $(BUILD)/public/portc
	$(CC) $(ALL_CFLAGS) $(WARN) -fPIC -I$(BUILD)/public -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libportc.so.1 -o $@ $^

$(PORTC): $(BUILD)/main.o $(CORE) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(CORE) $(LIB_A) | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -o $@ $< $(CORE) $(LIB_A) \
		$(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tests/pkt: tests/kernel/pkt.c | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) -Wall -Wextra -Werror -o $@ $< $(LDFLAGS)

$(BUILD)/tests/diffgen: tests/kernel/diffgen.c $(CORE) $(LIB_A) | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -o $@ $< $(CORE) $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/liftcheck: tests/kernel/liftcheck.c $(CORE) $(LIB_A) | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -o $@ $< $(CORE) $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/tablecheck: tests/table/tablecheck.c $(CORE) $(LIB_A) | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -o $@ $< $(CORE) $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/diffcheck: tests/diff/diffcheck.c $(CORE) $(LIB_A) | $(BUILD)/.dir
	$(CC) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -o $@ $< $(CORE) $(LIB_A) $(LDFLAGS) $(LDLIBS)

-include $(wildcard $(BUILD)/*.d $(BUILD)/lib/*.d)

# ---- tests ----------------------------------------------------------------

check: deps-test all $(UNIT_BINS) $(KTOOLS) $(TTOOLS) $(DTOOLS)
	@sh tests/run-all.sh $(BUILD)

check-kernel: deps-test all $(KTOOLS)
	@bash tests/kernel/run.sh $(BUILD)

# The kernel suites with 20,000 packets per differential and eight seeds
# (make check sends 3,000 a run, four seeds): half an hour or more.
check-kernel-long: deps-test all $(KTOOLS)
	@PORTC_DIFF_COUNT=20000 PORTC_DIFF_SEEDS="1 2 3 4 5 6 7 8" bash tests/kernel/run.sh $(BUILD)

# The Ansible role over SSH to three namespaces (tests/ansible/run.sh).
check-ansible: deps-test all
	@bash tests/ansible/run.sh $(BUILD)

check-unit: all $(UNIT_BINS)
	@sh tests/run-unit.sh $(BUILD)

check-golden: all
	@sh tests/run-golden.sh $(BUILD)/portc

# The suites that exercise the front end and the loader on bad input, on a
# build with ASan and UBSan (build-san); CI runs it after `make check`.
check-sanitize: deps-test
	@$(MAKE) --no-print-directory SANITIZE=1 check-unit check-golden
	@sh tests/run-bad.sh build-san/portc
	@sh tests/run-outfiles.sh build-san/portc

# ---- docs ------------------------------------------------------------------

docs: all
	@sh scripts/policy-docs.sh $(PORTC)

# ---- demo -----------------------------------------------------------------

demo: all
	@sh scripts/demo.sh $(PORTC)

# ---- benchmarks ---------------------------------------------------------------

# ClassBench sets from CLASSBENCH (the workspace's copy by default), and
# synthetic ones; see bench/README.md.
CLASSBENCH ?= ../shared/bench/classbench
bench: bench-sets bench-lint bench-table bench-estate bench-diff

# portc diff on group-heavy estates: 1% of the rules changed, disjoint rules
# reordered (bench/diff-bench.py)
bench-diff: all $(BUILD)/bench/peakrss
	python3 -u bench/diff-bench.py $(PORTC)

# group-heavy estates (bench/genestate.py): lint, compile, nft -f and
# iptables load times, against Capirca's aclgen in the same run
bench-estate: all $(BUILD)/bench/peakrss deps-bench
	python3 -u bench/estate-bench.py $(PORTC)

# set building at scale: a 64k-entry group, a 32k-item port list, a /8 less
# 64k /32s, checked, compiled and linted (bench/set-bench.py)
bench-sets: all $(BUILD)/bench/peakrss
	python3 -u bench/set-bench.py $(PORTC)

bench-lint: all $(BUILD)/bench/peakrss
	python3 -u bench/lint-bench.py $(PORTC) $(CLASSBENCH)

bench-table: all $(BUILD)/bench/table-bench
	python3 -u bench/table-bench.py $(BUILD) $(CLASSBENCH)

# libportc as of AB_BASE against the working tree's, in one process
AB_BASE ?= HEAD
bench-ab: all $(BUILD)/bench/ab
	sh scripts/ab.sh $(BUILD) $(AB_BASE) $(CLASSBENCH)

# DPDK's rte_acl, the classifier the tables are measured against
DPDK_CFLAGS = $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS   = $(shell pkg-config --libs libdpdk 2>/dev/null)
# DPDK is installed by its own target first: make expands a recipe's
# variables before running its first line.
deps-bench:
	@sh scripts/deps.sh bench
$(BUILD)/bench/table-bench: bench/table-bench.c $(CORE) $(LIB_A) | deps-bench
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(CFLAGS) -Wall -Wextra $(CPPFLAGS) $(DPDK_CFLAGS) -o $@ $< $(CORE) $(LIB_A) \
		$(LDFLAGS) $(LDLIBS) $(DPDK_LIBS) -lpthread

$(BUILD)/bench/ab: bench/ab.c include/portc/match.h
	@mkdir -p $(@D)
	$(CC) -std=c11 $(CFLAGS) -Wall -Wextra -Iinclude -D_GNU_SOURCE -o $@ $< -ldl

$(BUILD)/bench/peakrss: bench/peakrss.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wall -Wextra -o $@ $<

# ---- fuzzing ----------------------------------------------------------------

FUZZ_SECONDS ?= 60
fuzz: deps-test
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# ---- install ----------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/stdlib $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(PORTC) $(DESTDIR)$(BINDIR)/portc
	cd stdlib && find . -name '*.pol' -exec install -D -m 644 {} $(DESTDIR)$(DATADIR)/stdlib/{} \;
	sed 's|docs/language.md|$(DOCDIR)/language.md|' docs/portc.1 > $(BUILD)/portc.1
	install -m 644 $(BUILD)/portc.1 $(DESTDIR)$(MANDIR)/man1/portc.1
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 docs/language.md docs/cli.md docs/lint.md docs/stdlib.md docs/table-format.md \
		$(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/portc
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libportc.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libportc.so.1
	ln -sf libportc.so.1 $(DESTDIR)$(LIBDIR)/libportc.so
	install -m 644 include/portc/match.h include/portc/table_format.h $(DESTDIR)$(INCDIR)/portc/
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: portc\nDescription: %s\nVersion: %s\nLibs: -L$${libdir} -lportc\nCflags: -I$${includedir}\n' \
		'$(PREFIX)' '$(LIBDIR)' '$(INCDIR)' 'load and query portc matching tables' '$(VERSION)' \
		> $(DESTDIR)$(LIBDIR)/pkgconfig/portc.pc

clean:
	rm -rf build build-san build-fuzz
