#!/bin/sh
# deps.sh [build|test|bench] - make sure the dependencies are here.
#
#   build (default)  what `make`, `make demo` and `make install` need
#   test             what `make check` needs beyond the build
#   bench            what `make bench` needs beyond the build
#
# What is missing is installed with apt-get when running as root on Debian;
# anywhere else the exact command to run is printed and the build stops.
# A plain `make` never installs test tools.
set -u

# package:how-to-detect pairs; "cmd:NAME" looks for a program, "h:PATH" for
# a header, "f:PATH" for any file.
NEEDS="
gcc:cmd:cc
make:cmd:make
flex:cmd:flex
bison:cmd:bison
libcidr-dev:h:libcidr.h
libjansson-dev:h:jansson.h
pkg-config:cmd:pkg-config
"
# Needed by the tests, not by the build: cmocka for the units, clang for the
# fuzz targets, valgrind, and the tools with which the kernel tests load rulesets into
# network namespaces and send real packets through them.
TEST_NEEDS="
libcmocka-dev:h:cmocka.h
nftables:cmd:nft
iptables:cmd:iptables-restore
ipset:cmd:ipset
iproute2:cmd:ip
socat:cmd:socat
tcpdump:cmd:tcpdump
jq:cmd:jq
clang:cmd:clang
libclang-rt-14-dev:f:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
python3:cmd:python3
python3-jsonschema:f:/usr/lib/python3/dist-packages/jsonschema/__init__.py
valgrind:cmd:valgrind
patch:cmd:patch
ansible-core:cmd:ansible-playbook
openssh-server:f:/usr/sbin/sshd
openssh-client:cmd:ssh
git:cmd:git
tar:cmd:tar
"

# Needed by `make bench` only: DPDK's rte_acl, the classifier the matching
# tables are measured against, and Capirca's aclgen, the baseline of the
# estate benchmark.
BENCH_NEEDS="
libdpdk-dev:h:dpdk/rte_acl.h
python3-capirca:cmd:aclgen
"

missing=""
check_list() {
	for item in $1; do
		pkg=${item%%:*}
		rest=${item#*:}
		kind=${rest%%:*}
		what=${rest#*:}
		case $kind in
		cmd) command -v "$what" >/dev/null 2>&1 && continue ;;
		h) [ -e "/usr/include/$what" ] || [ -e "/usr/local/include/$what" ] && continue ;;
		f) [ -e "$what" ] && continue ;;
		esac
		missing="$missing $pkg"
	done
}

case ${1:-build} in
build) check_list "$NEEDS" ;;
test) check_list "$TEST_NEEDS" ;;
bench) check_list "$BENCH_NEEDS" ;;
*) echo "deps: usage: deps.sh [build|test|bench]" >&2; exit 2 ;;
esac
[ -z "$missing" ] && exit 0

cmd="apt-get install -y$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends $missing >/tmp/portc-deps.log 2>&1; then
		apt-get update -q >>/tmp/portc-deps.log 2>&1
		apt-get install -y -q --no-install-recommends $missing >>/tmp/portc-deps.log 2>&1 || {
			echo "deps: apt-get failed; see /tmp/portc-deps.log" >&2
			exit 1
		}
	fi
	exit 0
fi
echo "deps: missing:$missing" >&2
echo "deps: install them with:  sudo $cmd" >&2
exit 1
