#!/bin/sh
# run-cli.sh PORTC - command-line conventions: '-' is standard input for
# check, fmt, lint and query; `make install PREFIX=...` after a plain build
# installs a portc that looks for its stdlib under that prefix, with the
# documentation the man page names.
set -u
P=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NO_COLOR=1
fail=0
n=0
expect() { # what rc-wanted rc-got
	n=$((n + 1))
	[ "$2" = "$3" ] || { echo "FAIL: $1: exit $3, not $2"; fail=$((fail + 1)); return 1; }
}
has() { # what file pattern
	n=$((n + 1))
	grep -q -- "$3" "$2" || { echo "FAIL: $1: no '$3' in:"; head -5 "$2"; fail=$((fail + 1)); }
}

bad='policy p { default deny; allow any -> 192.0.2.0/24 tcp 99999; }'
messy='policy p {  default deny; allow any -> 192.0.2.0/24 tcp 22;
   allow any -> 192.0.2.0/25 tcp 22; }'
echo "$bad" | "$P" check - >"$tmp/out" 2>&1
expect "check - (an error)" 1 $?
has "check -" "$tmp/out" '^<stdin>:1:56: error: port 99999'
echo "$messy" | "$P" fmt - >"$tmp/out" 2>&1
expect "fmt -" 0 $?
has "fmt -" "$tmp/out" '^    allow any -> 192.0.2.0/24 tcp 22;$'
echo "$messy" | "$P" fmt --check - >"$tmp/out" 2>&1
expect "fmt --check -" 1 $?
has "fmt --check -" "$tmp/out" '^<stdin>$'
echo "$messy" | "$P" fmt -w - >"$tmp/out" 2>&1
expect "fmt -w -" 2 $?
has "fmt -w -" "$tmp/out" 'cannot rewrite standard input'
echo "$messy" | "$P" lint - >"$tmp/out" 2>&1
expect "lint -" 0 $?
has "lint -" "$tmp/out" '^<stdin>:2:4: warning: this rule never matches'
echo "$messy" | "$P" query --format=json - tcp 198.18.0.1:40000 192.0.2.1:22 >"$tmp/out" 2>&1
expect "query -" 0 $?
has "query -" "$tmp/out" '"file":"<stdin>","line":1'
# imports of a policy on stdin are found from the working directory
mkdir "$tmp/lib" && echo 'network web = 192.0.2.80;' >"$tmp/lib/nets.pol"
(cd "$tmp" && printf 'import "lib/nets";\npolicy p { default deny; allow any -> web tcp 443; }\n' |
	"$P" check -) >"$tmp/out" 2>&1
expect "check - with an import" 0 $?

# fmt --diff: a unified diff that patch takes, exit 1; nothing for a
# formatted file, exit 0
echo "$messy" >"$tmp/m.pol"
(cd "$tmp" && "$P" fmt --diff m.pol) >"$tmp/m.diff" 2>&1
expect "fmt --diff (changes)" 1 $?
has "fmt --diff" "$tmp/m.diff" '^--- a/m.pol$'
(cd "$tmp" && patch -s -p1 <m.diff) && "$P" fmt --check "$tmp/m.pol" >/dev/null 2>&1
expect "fmt --diff applied with patch -p1 formats the file" 0 $?
"$P" fmt --diff "$tmp/m.pol" >"$tmp/out" 2>&1
expect "fmt --diff (formatted)" 0 $?
[ -s "$tmp/out" ] && { echo "FAIL: fmt --diff of a formatted file printed something"; fail=$((fail + 1)); }
# check --format=json: every diagnostic, its fix-it, the same exit status
echo "$bad" | "$P" check --format=json - >"$tmp/out" 2>"$tmp/err"
expect "check --format=json" 1 $?
python3 - "$tmp/out" <<'PY' || { echo "FAIL: check --format=json"; fail=$((fail + 1)); }
import json, sys
doc = json.load(open(sys.argv[1]))
d = doc["diagnostics"]
assert doc["result"] == "errors", doc
assert len(d) == 1 and d[0]["level"] == "error" and d[0]["location"]["line"] == 1, d
assert d[0]["location"]["file"] == "<stdin>" and "99999" in d[0]["message"], d
PY
n=$((n + 1))
printf 'policy p { default deny; allow 192.0.2.1 -> any tcp 80; }\n' |
	"$P" check --format=json - >"$tmp/out" 2>&1
expect "check --format=json (clean)" 0 $?
has "check --format=json (clean)" "$tmp/out" '"result": "ok"'
# compile --stats --format=json on stderr, the ruleset on stdout
printf 'policy p { default deny; allow 192.0.2.1 -> any tcp 80; }\n' >"$tmp/s.pol"
"$P" compile -t nftables --stats --format=json "$tmp/s.pol" >"$tmp/out" 2>"$tmp/err"
expect "compile --stats --format=json" 0 $?
has "compile --stats --format=json" "$tmp/err" '^{"policy":"p","target":"nftables","input_rules":1,'
has "compile --stats --format=json: the ruleset" "$tmp/out" '^table inet portc_p'

# portc doc: the same text wherever it runs (the stdlib as stdlib/...),
# the header sentence in HTML as in Markdown, the graph's nodes with their
# addresses and its default
root=$PWD
(cd "$tmp" && "$P" doc -Wno-unenforceable -D site=198.18.0.0/16 "$root/policies/webex-calling.pol") >"$tmp/doc.md" 2>&1
has "doc from another directory" "$tmp/doc.md" '| stdlib/vendor/webex-calling.pol:114 (ruleset'
n=$((n + 1))
grep -q "$root" "$tmp/doc.md" && grep "$root" "$tmp/doc.md" | grep -v '^Policy' | grep -q . &&
	{ echo "FAIL: doc output names this machine's paths"; fail=$((fail + 1)); }
"$P" doc --format=html policies/branch-office.pol >"$tmp/doc.html" 2>&1
has "doc html: the header sentence" "$tmp/doc.html" 'Replies and the rest of an allowed flow pass.'
"$P" doc --format=dot policies/branch-office.pol >"$tmp/doc.dot" 2>&1
has "doc dot: a node with its addresses" "$tmp/doc.dot" '"office" \[label="office\\n192.0.2.0/24"\];'
has "doc dot: any" "$tmp/doc.dot" '"office" -> "any"'
has "doc dot: the default" "$tmp/doc.dot" '"(default)" \[shape=note, label="anything else: deny (logged)"\];'

# one numbering: rule 3 is #3 in doc, both rulesets' log prefixes,
# --dump=ir, query and query --table (rule 1 is two table entries)
cat >"$tmp/num.pol" <<'POL'
policy numbering_policy_with_a_long_name {
    default deny;
    allow 192.0.2.0/24 -> 198.18.0.0/24 tcp 53, udp 53 log "dns";
    allow 192.0.2.0/24 -> 198.18.0.0/24 tcp 80 "web";
    deny 192.0.2.0/24 -> 198.18.0.0/24 tcp 22 log "ssh";
}
POL
"$P" doc "$tmp/num.pol" >"$tmp/num.md" 2>&1
has "doc #3" "$tmp/num.md" '^| 3 | deny, log | ssh |'
"$P" compile -t nftables "$tmp/num.pol" >"$tmp/num.nft" 2>&1
has "nftables log prefix #3" "$tmp/num.nft" 'log prefix "portc numbering_policy_with_a_long_name#3 deny: "'
"$P" compile -t iptables "$tmp/num.pol" >"$tmp/num.ipt" 2>&1
has "iptables log prefix #3" "$tmp/num.ipt" '--log-prefix "portc numb[a-z_]*_[0-9a-f]\{8\}#3 deny: "'
n=$((n + 1))
awk -F'"' '/--log-prefix/ { if (length($2) > 29) bad = 1 } END { exit bad }' "$tmp/num.ipt" ||
	{ echo "FAIL: an iptables log prefix longer than 29 characters"; fail=$((fail + 1)); }
"$P" check --dump=ir "$tmp/num.pol" >"$tmp/num.ir" 2>&1
has "--dump=ir 3:" "$tmp/num.ir" '^  3: deny tcp'
[ "$(grep -c '^  1: allow' "$tmp/num.ir")" = 2 ] || { echo "FAIL: rule 1's two entries are not both 1:"; fail=$((fail + 1)); }
"$P" query "$tmp/num.pol" tcp 192.0.2.1:40000 198.18.0.1:22 >"$tmp/num.q" 2>&1
has "query #3" "$tmp/num.q" '^rule:    #3, '
"$P" compile -t table -o "$tmp/num.ptab" "$tmp/num.pol" &&
	"$P" query --table "$tmp/num.ptab" tcp 192.0.2.1:40000 198.18.0.1:22 >"$tmp/num.t" 2>&1
has "query --table #3" "$tmp/num.t" "^rule:    #3, line 5 (the table's rule 3)"

# the build's dependencies apart from the tests': with only the build
# tools on PATH, the build check passes and the test check names what is
# missing (and, with no apt-get on PATH, installs nothing)
mkdir "$tmp/bin"
for t in cc make flex bison pkg-config; do
	ln -s "$(command -v $t)" "$tmp/bin/$t"
done
PATH=$tmp/bin /bin/sh scripts/deps.sh build >"$tmp/out" 2>&1
expect "deps.sh build with only the build tools" 0 $?
PATH=$tmp/bin /bin/sh scripts/deps.sh test >"$tmp/out" 2>&1
expect "deps.sh test without the test tools" 1 $?
has "deps.sh test names the test tools" "$tmp/out" 'missing:.* nftables .*valgrind'
has "deps.sh test prints the install command" "$tmp/out" 'apt-get install -y'

# make install PREFIX=/usr after a plain build: the stdlib path compiled
# in follows PREFIX, and the man page names the installed docs
if env -u MAKEFLAGS -u MFLAGS make -s BUILD="$tmp/b" SANITIZE= "$tmp/b/portc" >"$tmp/build.log" 2>&1 &&
	env -u MAKEFLAGS -u MFLAGS make -s BUILD="$tmp/b" SANITIZE= install PREFIX=/usr DESTDIR="$tmp/root" >>"$tmp/build.log" 2>&1; then
	n=$((n + 1))
	grep -aq '/usr/share/portc/stdlib' "$tmp/root/usr/bin/portc" &&
		! grep -aq '/usr/local/share/portc/stdlib' "$tmp/root/usr/bin/portc" ||
		{ echo "FAIL: make install PREFIX=/usr kept another stdlib path"; fail=$((fail + 1)); }
	has "installed man page" "$tmp/root/usr/share/man/man1/portc.1" '/usr/share/doc/portc/language.md'
	for f in usr/share/doc/portc/language.md usr/lib/libportc.so.1 usr/lib/pkgconfig/portc.pc \
		usr/include/portc/match.h usr/share/portc/stdlib/vendor/cisco-finesse.pol; do
		n=$((n + 1))
		[ -f "$tmp/root/$f" ] || { echo "FAIL: make install did not install $f"; fail=$((fail + 1)); }
	done
else
	echo "FAIL: the build for make install failed:"
	tail -5 "$tmp/build.log"
	fail=$((fail + 1))
fi

# portc diff: 0 alike, 1 different, 2 errors; --fail-on narrows 1
d=docs/examples
"$P" diff "$d/change-old.pol" "$d/change-old.pol" >"$tmp/out" 2>&1
expect "diff of a file with itself" 0 $?
has "diff alike" "$tmp/out" 'decide every packet alike'
"$P" diff "$d/change-old.pol" "$d/change-new.pol" >"$tmp/out" 2>&1
expect "diff of a change" 1 $?
"$P" diff --fail-on=closed "$d/change-old.pol" "$d/change-new.pol" >"$tmp/out" 2>&1
expect "diff --fail-on=closed (nothing closed)" 0 $?
"$P" diff --fail-on=opened,remarked "$d/change-old.pol" "$d/change-new.pol" >"$tmp/out" 2>&1
expect "diff --fail-on=opened,remarked" 1 $?
"$P" diff --fail-on=opend "$d/change-old.pol" "$d/change-new.pol" >"$tmp/out" 2>&1
expect "diff --fail-on=opend" 2 $?
has "diff --fail-on=opend" "$tmp/out" "got 'opend'"
echo "$bad" >"$tmp/bad.pol"
"$P" diff "$d/change-old.pol" "$tmp/bad.pol" >"$tmp/out" 2>&1
expect "diff with an error in NEW" 2 $?
has "diff with an error in NEW" "$tmp/out" 'bad.pol:1:56: error: port 99999'
"$P" diff "$d/change-old.pol" "$tmp/missing.pol" >"$tmp/out" 2>&1
expect "diff with NEW missing" 2 $?
"$P" diff --format=yaml "$d/change-old.pol" "$d/change-new.pol" >"$tmp/out" 2>&1
expect "diff --format=yaml" 2 $?

# portc diff --git=REV FILE: FILE and its imports as of REV, against now
if command -v git >/dev/null 2>&1 && command -v tar >/dev/null 2>&1; then
	g=$tmp/repo
	mkdir -p "$g/pol" "$g/lib" "$tmp/gtmp"
	printf 'network site = { 198.18.0.0/24 };\n' >"$g/lib/nets.pol"
	printf 'import "../lib/nets.pol";\npolicy p {\n    default deny;\n    allow site -> 192.0.2.1 tcp 443 "web";\n}\n' >"$g/pol/site.pol"
	(cd "$g" && git init -q && git add -A &&
		git -c user.email=t@example.com -c user.name=t commit -qm one) >/dev/null 2>&1
	(cd "$g" && TMPDIR=$tmp/gtmp "$P" diff --git=HEAD pol/site.pol) >"$tmp/out" 2>&1
	expect "diff --git=HEAD, nothing changed" 0 $?
	sed -i 's|/24|/23|' "$g/lib/nets.pol"	# only the import changes
	(cd "$g" && TMPDIR=$tmp/gtmp "$P" diff --git=HEAD pol/site.pol) >"$tmp/out" 2>&1
	expect "diff --git=HEAD, an import changed" 1 $?
	has "diff --git names the old side REV:PATH" "$tmp/out" '^HEAD:pol/site.pol -> pol/site.pol'
	has "diff --git finds the change" "$tmp/out" '^    tcp 198.18.1.0/24 -> 192.0.2.1/32 dport 443$'
	(cd "$g" && TMPDIR=$tmp/gtmp "$P" diff --git=--output=$tmp/x pol/site.pol) >"$tmp/out" 2>&1
	expect "diff --git with a revision like an option" 2 $?
	n=$((n + 1))
	[ ! -e "$tmp/x" ] || { echo "FAIL: diff --git passed a revision to git as an option"; fail=$((fail + 1)); }
	(cd "$g" && TMPDIR=$tmp/gtmp "$P" diff --git=HEAD pol/none.pol) >"$tmp/out" 2>&1
	expect "diff --git of a file git does not have" 2 $?
	cp "$g/pol/site.pol" "$tmp/outside.pol"
	TMPDIR=$tmp/gtmp "$P" diff --git=HEAD "$tmp/outside.pol" >"$tmp/out" 2>&1
	expect "diff --git outside a work tree" 2 $?
	has "diff --git outside a work tree" "$tmp/out" "is not in a git work tree"
	n=$((n + 1))
	[ -z "$(ls "$tmp/gtmp")" ] || { echo "FAIL: diff --git left $(ls "$tmp/gtmp") behind"; fail=$((fail + 1)); }
	# contrib/git/pre-commit: fails a commit that newly allows traffic
	hook=$(pwd)/contrib/git/pre-commit
	sed -i 's/tcp 443/tcp 443, 8443/' "$g/pol/site.pol"
	(cd "$g" && git add -A && PORTC=$P sh "$hook") >"$tmp/out" 2>&1
	expect "pre-commit on a change that opens a port" 1 $?
	has "pre-commit shows the change" "$tmp/out" 'dport 8443'
	(cd "$g" && git -c user.email=t@example.com -c user.name=t commit -qm two --no-verify) >/dev/null 2>&1
	sed -i 's/allow site/deny site/' "$g/pol/site.pol"
	(cd "$g" && git add -A && PORTC=$P sh "$hook") >"$tmp/out" 2>&1
	expect "pre-commit on a change that only closes" 0 $?
	has "pre-commit shows what closes" "$tmp/out" 'closed: allow -> deny'
else
	echo "cli: SKIP: diff --git needs git and tar (apt-get install git tar)"
fi

# expectations: proved by check, errors at the expectation, nothing emitted
cat >"$tmp/exp.pol" <<'EOF'
network site = 198.18.0.0/24;
ruleset vendor(gw: network) {
    allow site -> gw tcp 443 "the vendor's row";
    expect allow site -> gw tcp 443, 8443 "the vendor needs 8443 too";
}
policy p {
    default deny;
    use vendor(192.0.2.1);
    expect deny any -> 192.0.2.1 tcp 22;
    expect none 198.18.0.0/25 -> 192.0.2.1 udp;
}
EOF
"$P" check "$tmp/exp.pol" >"$tmp/out" 2>&1
expect "check with a failing expectation from a ruleset" 1 $?
has "the failing expectation" "$tmp/out" 'exp.pol:4:5: error: expectation fails: tcp 198.18.0.0:40000 -> 192.0.2.1:8443 is denied; expected: allowed'
has "the rule that decides it" "$tmp/out" "exp.pol:6:1: note: the default of policy 'p' decides it"
has "the use that brought it" "$tmp/out" "exp.pol:8:5: note: the expectation comes from ruleset 'vendor', used here"
sed -i 's/tcp 443 "the/tcp 443, 8443 "the/' "$tmp/exp.pol"
"$P" check "$tmp/exp.pol" >"$tmp/out" 2>&1
expect "check once the expectation holds" 0 $?
"$P" compile -t nftables "$tmp/exp.pol" >"$tmp/out" 2>&1
expect "compile with expectations" 0 $?
n=$((n + 1))
! grep -q "22" "$tmp/out" || { echo "FAIL: an expectation reached the ruleset"; fail=$((fail + 1)); }
echo 'policy p { default deny; expect maybe any -> 192.0.2.1 tcp 22; }' >"$tmp/exp2.pol"
"$P" check "$tmp/exp2.pol" >"$tmp/out" 2>&1
expect "expect maybe" 1 $?
has "expect maybe" "$tmp/out" "not 'maybe'"
echo 'policy p { default deny; expect deny any -> 192.0.2.1 tcp 22 dscp ef; expect none any -> 192.0.2.1 log; }' >"$tmp/exp3.pol"
"$P" check "$tmp/exp3.pol" >"$tmp/out" 2>&1
expect "expect deny with dscp, expect none with log" 1 $?
has "expect deny with dscp" "$tmp/out" "'expect deny' cannot name one"
has "expect none with log" "$tmp/out" "'expect none' allows deny and reject alike"
printf 'param gw: network;\npolicy p { default deny; expect allow any -> gw tcp 22; }\n' >"$tmp/exp4.pol"
"$P" check "$tmp/exp4.pol" >"$tmp/out" 2>&1
expect "expectations wait for parameters" 0 $?
"$P" check -D gw=192.0.2.1 "$tmp/exp4.pol" >"$tmp/out" 2>&1
expect "expectations with the parameter given" 1 $?

# a site policy that breaks a vendor profile's row fails check
sed 's/^    use cisco_ccp/    deny any -> ccp_server tcp 7443 "a site rule that shadows row 5";\n    use cisco_ccp/' \
	tests/vendor/ccp-site.pol >"$tmp/ccp-broken.pol"
"$P" check -I tests/vendor "$tmp/ccp-broken.pol" >"$tmp/out" 2>&1
expect "a site that breaks a vendor row" 1 $?
has "the vendor row's expectation" "$tmp/out" 'vendor/cisco-ccp.pol:[0-9]*:5: error: expectation fails: tcp .* -> 198.18.30.10:7443 is denied; expected: allowed'
has "the site rule that breaks it" "$tmp/out" 'ccp-broken.pol:[0-9]*:5: note: rule #1 decides it'
"$P" check tests/vendor/ccp-site.pol >"$tmp/out" 2>&1
expect "the site as it is keeps every vendor row" 0 $?

# diff --old-D / --new-D: a parameter per side
printf 'param site: network;\npolicy p {\n    default deny;\n    allow site -> 192.0.2.1 tcp 443;\n}\n' >"$tmp/pd.pol"
"$P" diff --old-D site=198.18.0.0/24 --new-D site=198.18.0.0/23 "$tmp/pd.pol" "$tmp/pd.pol" >"$tmp/out" 2>&1
expect "diff --old-D/--new-D, the site grown" 1 $?
has "diff --old-D/--new-D" "$tmp/out" '^    tcp 198.18.1.0/24 -> 192.0.2.1/32 dport 443$'
"$P" diff -D site=198.18.0.0/24 "$tmp/pd.pol" "$tmp/pd.pol" >"$tmp/out" 2>&1
expect "diff -D for both sides" 0 $?
"$P" diff -D site=198.18.0.0/24 --new-D site=198.18.0.0/23 "$tmp/pd.pol" "$tmp/pd.pol" >"$tmp/out" 2>&1
expect "diff -D and --new-D with two values" 2 $?
echo "cli: $n checks, $fail failed"
[ $fail = 0 ]
