#!/bin/sh
# run-outfiles.sh PORTC - output files are written through to what the user
# named (src/outfile.c): a device or FIFO is written in place, /dev/stdout
# is the descriptor the shell gave, a symlink stays a symlink and its file
# is replaced with its mode and owner kept, SIGTERM leaves no temporary
# file, and the iptables backend's three files are committed together or
# not at all, also under concurrent compiles.
set -u
P=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
POL=$PWD/policies/branch-office.pol
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
ok() { n=$((n + 1)); }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "FAIL: $*"; }
compile() { "$P" compile "$@" 2>"$tmp/err"; }
cd "$tmp" || exit 1

# a policy with a v4 and a v6 half, whose rule names its own variant, so a
# mixed set of files shows
mkpol() { # NAME PORT
	cat >"$1.pol" <<EOF
policy $1 {
    default deny;
    allow 192.0.2.0/24 -> 198.18.0.0/15 tcp $2 "variant $1";
    allow 2001:db8::/32 -> 2001:db8:1::/48 tcp $2 "variant $1";
}
EOF
}
mkpol alpha 1111
mkpol beta 2222

# a device: written, not replaced by a regular file (as root, -o /dev/null
# used to do that and break the machine). A null device of the test's own,
# so that a regression damages nothing outside this directory.
if [ "$(id -u)" = 0 ] && mknod null c 1 3 2>/dev/null; then
	compile -t nftables -o null alpha.pol && [ -c null ] && ok || bad "-o DEVICE replaced the device"
else
	echo "outfiles: SKIP: -o DEVICE (needs root and mknod)"
fi
# /dev/stdout into a pipe, a file and an appended file
compile -t nftables -o /dev/stdout alpha.pol | grep -q 'variant alpha' && ok || bad "-o /dev/stdout | pipe"
compile -t nftables -o /dev/stdout alpha.pol >out.txt && grep -q 'variant alpha' out.txt && ok ||
	bad "-o /dev/stdout > file"
echo "first line" >app.txt
compile -t nftables -o /dev/stdout alpha.pol >>app.txt
[ "$(head -1 app.txt)" = "first line" ] && grep -q 'variant alpha' app.txt && ok ||
	bad "-o /dev/stdout >> file: the earlier content was lost"
compile -t nftables -o - alpha.pol | grep -q 'variant alpha' && ok || bad "-o -"
compile -t nftables -o /proc/self/fd/1 alpha.pol | grep -q 'variant alpha' && ok || bad "-o /proc/self/fd/1"
# a regression here replaces the machine's /dev/stdout: put it back
if [ ! -L /dev/stdout ] && [ "$(id -u)" = 0 ]; then
	bad "/dev/stdout was replaced; restoring the link"
	rm -f /dev/stdout && ln -s /proc/self/fd/1 /dev/stdout
fi
# a FIFO: written in place, still a FIFO
mkfifo fifo
timeout 10 cat fifo >from-fifo.txt &
reader=$!
timeout 10 "$P" compile -t nftables -o fifo alpha.pol 2>err
wait $reader
[ -p fifo ] && grep -q 'variant alpha' from-fifo.txt && ok || bad "-o FIFO"
# a symlink: the link stays, its target is replaced, mode and owner kept
mkdir real
echo old >real/site.nft
chmod 0600 real/site.nft
if [ "$(id -u)" = 0 ]; then chown 65534:65534 real/site.nft; fi
ln -s real/site.nft site.nft
compile -t nftables -o site.nft alpha.pol || bad "compile through a symlink: $(cat err)"
[ -L site.nft ] && ok || bad "the symlink was replaced by a regular file"
grep -q 'variant alpha' real/site.nft && ok || bad "the symlink's file was not updated"
[ "$(stat -c %a real/site.nft)" = 600 ] && ok || bad "mode not kept: $(stat -c %a real/site.nft)"
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %u:%g real/site.nft)" = 65534:65534 ] && ok ||
		bad "owner not kept: $(stat -c %u:%g real/site.nft)"
fi
ls real | grep -q '\.tmp\.' && bad "a temporary file was left in real/" || ok
# a dangling symlink: the file it names is created
ln -s real/new.nft new.nft
compile -t nftables -o new.nft alpha.pol && [ -L new.nft ] && grep -q 'variant alpha' real/new.nft && ok ||
	bad "compile through a dangling symlink"
# fmt -w through a symlink keeps the link and the mode
printf 'policy   p { default deny;\n allow any ->   any tcp 80; }\n' >real/p.pol
chmod 0640 real/p.pol
ln -s real/p.pol p.pol
"$P" fmt -w p.pol
[ -L p.pol ] && "$P" fmt --check real/p.pol && [ "$(stat -c %a real/p.pol)" = 640 ] && ok ||
	bad "fmt -w through a symlink"
# SIGTERM while the temporary files exist: none is left
PORTC_TEST_COMMIT_DELAY_MS=3000 "$P" compile -t iptables -o sig alpha.pol &
pid=$!
sleep 1
ls | grep -q '^sig\..*\.tmp\.' && ok || bad "no temporary file during the commit delay (the test did not test)"
kill -TERM $pid
wait $pid 2>/dev/null	# dash says "Terminated" on its stderr
rc=$?
[ $rc = 143 ] && ok || bad "SIGTERM: exit $rc, not 143"
ls | grep -q '\.tmp\.' && bad "SIGTERM left: $(ls | grep '\.tmp\.')" || ok
ls | grep -q '^sig\.' && bad "SIGTERM left a partial set: $(ls | grep '^sig\.')" || ok

# all or none: the last rename of the set fails (its target became a
# directory while the set was being written); the others are put back
compile -t iptables -o set alpha.pol || bad "compile -o set"
PORTC_TEST_COMMIT_DELAY_MS=1500 "$P" compile -t iptables -o set beta.pol 2>err &
pid=$!
sleep 0.5
rm set.v6 && mkdir set.v6 && touch set.v6/in-the-way
wait $pid 2>/dev/null	# dash says "Terminated" on its stderr
rc=$?
[ $rc != 0 ] && ok || bad "a failed commit exited 0"
grep -q 'variant alpha' set.v4 && ok || bad "a failed commit did not put the old set.v4 back"
grep -q 'beta' set.v4 set.ipset && bad "a failed commit left some of beta's files" || ok
ls | grep -q '\.tmp\.\|\.old$' && bad "a failed commit left $(ls | grep '\.tmp\.\|\.old$')" || ok
rm -rf set.v6

# concurrent compiles to one -o: every outcome is one whole set
i=0
mixed=0
while [ $i -lt 30 ]; do
	PORTC_TEST_COMMIT_DELAY_MS=20 "$P" compile -t iptables -o race alpha.pol &
	a=$!
	PORTC_TEST_COMMIT_DELAY_MS=20 "$P" compile -t iptables -o race beta.pol &
	b=$!
	wait $a $b
	va=$(grep -c 'variant alpha' race.v4 race.v6 | grep -c ':1$')
	vb=$(grep -c 'variant beta' race.v4 race.v6 | grep -c ':1$')
	if ! { [ "$va" = 2 ] && [ "$vb" = 0 ]; } && ! { [ "$va" = 0 ] && [ "$vb" = 2 ]; }; then
		mixed=$((mixed + 1))
	fi
	i=$((i + 1))
done
[ $mixed = 0 ] && ok || bad "$mixed of 30 concurrent compiles left a mixed set"
ls | grep -q '\.tmp\.\|\.old$' && bad "concurrent compiles left $(ls | grep '\.tmp\.\|\.old$')" || ok

# a directory as -o: an error, nothing written
mkdir adir
compile -t nftables -o adir alpha.pol
rc=$?
[ $rc = 2 ] && grep -q "adir" err && ok || bad "-o DIR: exit $rc"

echo "outfiles: $n checks, $fail failed"
[ $fail = 0 ]
