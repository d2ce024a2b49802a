#!/bin/bash
# run.sh BUILD - compiled rulesets in a real kernel.
#
# Two network namespaces, A (the sender) and R (the receiver), joined by a
# veth pair; addresses from 198.18.0.0/15 and 2001:db8::/32 only. Nothing
# leaves the namespaces. The suites:
#
#   load          every policy, both backends: nft -c, iptables-restore
#                 --test, and a real load
#   end-to-end    real TCP connections and UDP datagrams (socat) from A to R
#                 succeed exactly where `portc query` says allow; a rejected
#                 connection is refused at once, a denied one times out
#   dscp          a policy on A's output hook marks what R receives
#   differential  thousands of crafted packets (edges and random) from A;
#                 what R's stack receives (after the INPUT hook) must be
#                 exactly what the reference evaluator allows
#   output        the same from R's own stack, through its OUTPUT hook, to A
#   injection     notes written to break out of comments stay comments
#   deploy        portc apply's rollback and confirmation, portc verify's
#                 drift reports (deploy.sh)
#   deploy_ipt    the same with -t iptables, beside someone else's chains
#
# Needs root and network namespaces; says SKIP and why when it has neither.
set -u
B=$1
PORTC=$B/portc
PKT=$B/tests/pkt
DIFFGEN=$B/tests/diffgen
LIFTCHECK=$B/tests/liftcheck
COUNT=${PORTC_DIFF_COUNT:-3000}
SEEDS=${PORTC_DIFF_SEEDS:-1 2 3 4}
export NO_COLOR=1
unset PORTC_PATH

skip() {
	echo "kernel: SKIP: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nft, iptables)"
for t in ip nft iptables-restore ip6tables-restore ipset socat jq; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
tag=pc$$
A=$tag-a
R=$tag-r
C=$tag-c
S=$tag-s
D=$tag-d
F=$tag-f
U=$tag-u
ip netns add "$tag-probe" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "$tag-probe"

tmp=$(mktemp -d)
pass=0
fail=0
drop_ns() {
	# nothing started in a namespace may outlive it (a server left behind
	# would hold the caller's output open)
	for ns in "$A" "$R" "$C" "$S" "$D" "$F" "$U"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
cleanup() {
	drop_ns
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

inA() { ip netns exec "$A" "$@"; }
inR() { ip netns exec "$R" "$@"; }

# Fresh namespaces: A 198.18.0.1 (and .11), R 198.18.0.2; 2001:db8:ffff::1, ::2.
# "setup bare" gives no addresses: with AnyIP, R answers for every address,
# and a connected subnet of its own would swallow packets to it.
setup() {
	drop_ns
	ip netns add "$A"
	ip netns add "$R"
	ip link add va netns "$A" type veth peer name vr netns "$R"
	ip -n "$A" link set lo up
	ip -n "$R" link set lo up
	if [ "${1:-}" != bare ]; then
		ip -n "$A" addr add 198.18.0.1/24 dev va
		ip -n "$A" addr add 198.18.0.11/24 dev va
		ip -n "$R" addr add 198.18.0.2/24 dev vr
		ip -n "$A" -6 addr add 2001:db8:ffff::1/64 dev va nodad
		ip -n "$R" -6 addr add 2001:db8:ffff::2/64 dev vr nodad
	fi
	ip -n "$A" link set va up
	ip -n "$R" link set vr up
	RMAC=$(ip -n "$R" -j link show vr | jq -r '.[0].address')
}

# R (or the namespace and interface given) takes every address as its own
# ("AnyIP"), so crafted packets to any destination reach its INPUT hook.
anyip() {
	local ns=${1:-$R} dev=${2:-vr}
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		"net.ipv4.conf.$dev.rp_filter=0" net.ipv4.conf.all.accept_local=1 "net.ipv4.conf.$dev.accept_local=1"
	ip -n "$ns" route add local 0.0.0.0/0 dev lo table local
	ip -n "$ns" -6 route add local ::/0 dev lo table local
}

args_for() { # policy file -> its options: tests/kernel/policies.args, or a "# portc-args:" first line
	sed -n "s|^$1 ||p" tests/kernel/policies.args 2>/dev/null
	sed -n '1s/^# portc-args: //p' "$1" | sed 's/--hook=[a-z,]*//'
}

compile() { # backend policy out [extra args]
	local be=$1 pol=$2 out=$3
	shift 3
	# shellcheck disable=SC2046
	$PORTC compile -t "$be" $(args_for "$pol") "$@" "$pol" -o "$out" 2>"$tmp/compile.err"
}

load() { # ns backend out
	local ns=$1 be=$2 out=$3
	if [ "$be" = nftables ]; then
		ip netns exec "$ns" nft -f "$out"
	else
		ip netns exec "$ns" sh "$out.sh"
	fi
}

# ---- load ---------------------------------------------------------------

suite_load() {
	for pol in policies/*.pol tests/kernel/*.pol tests/golden/nftables/*.pol tests/golden/iptables/*.pol; do
		for be in nftables iptables; do
			out=$tmp/load
			if ! compile "$be" "$pol" "$out"; then
				bad "load: $pol does not compile for $be: $(cat "$tmp/compile.err")"
				continue
			fi
			setup
			if [ "$be" = nftables ]; then
				inR nft -c -f "$out" || { bad "load: nft -c rejects $pol"; continue; }
			else
				inR ipset restore -exist -file "$out.ipset" || { bad "load: ipset rejects $pol"; continue; }
				inR iptables-restore --noflush --test "$out.v4" || { bad "load: iptables-restore --test rejects $pol"; continue; }
				inR ip6tables-restore --noflush --test "$out.v6" || { bad "load: ip6tables-restore --test rejects $pol"; continue; }
			fi
			# twice: the second load replaces the first
			if load "$R" "$be" "$out" && load "$R" "$be" "$out"; then ok; else bad "load: $pol ($be) does not load"; fi
		done
	done
}

# ---- end to end -------------------------------------------------------------

start_servers() {
	for port in 8443 8023 9005; do
		inR socat "TCP4-LISTEN:$port,bind=198.18.0.2,reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
		inR socat "TCP6-LISTEN:$port,bind=[2001:db8:ffff::2],reuseaddr,fork" "SYSTEM:cat" >/dev/null 2>&1 &
	done
	for port in 5060 5061; do
		inR socat -u "UDP4-RECV:$port,bind=198.18.0.2" "OPEN:$tmp/udp$port.v4,creat,append" >/dev/null 2>&1 &
		inR socat -u "UDP6-RECV:$port,bind=[2001:db8:ffff::2]" "OPEN:$tmp/udp$port.v6,creat,append" >/dev/null 2>&1 &
	done
	sleep 0.5
}

stop_servers() {
	ip netns pids "$R" 2>/dev/null | xargs -r kill 2>/dev/null
	wait 2>/dev/null
}

stop_all() {
	for ns in "$A" "$R" "$C" "$S" "$D" "$F" "$U"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	wait 2>/dev/null
}

# proto src sport dst dport: what really happens
try() {
	local proto=$1 src=$2 sport=$3 dst=$4 dport=$5 fam=4 bsrc=$2 bdst=$4
	case $src in *:*) fam=6 bsrc="[$src]" bdst="[$dst]" ;; esac
	if [ "$proto" = tcp ]; then
		local t0 t1 out
		t0=$(date +%s%N)
		out=$(echo ping | inA timeout 6 socat -T3 - "TCP$fam:$bdst:$dport,bind=$bsrc:$sport,reuseaddr,connect-timeout=3" 2>&1)
		t1=$(date +%s%N)
		if [ "$out" = ping ]; then
			echo allow
		elif echo "$out" | grep -q "Connection refused" && [ $(((t1 - t0) / 1000000)) -lt 1500 ]; then
			echo reject
		else
			echo deny
		fi
	else
		local mark="m$RANDOM$RANDOM"
		echo "$mark" | inA socat -u - "UDP$fam:$bdst:$dport,bind=$bsrc:$sport,reuseaddr" 2>/dev/null
		sleep 0.3
		if grep -q "$mark" "$tmp/udp$dport.v$fam" 2>/dev/null; then echo allow; else echo deny; fi
	fi
}

suite_e2e() {
	local pol=tests/kernel/e2e.pol
	for be in nftables iptables; do
		setup
		compile "$be" "$pol" "$tmp/e2e" || { bad "e2e: compile"; continue; }
		load "$R" "$be" "$tmp/e2e" || { bad "e2e: load ($be)"; continue; }
		start_servers
		n=0
		while read -r proto src sport dst dport; do
			[ -z "$proto" ] && continue
			n=$((n + 1))
			local qs=$src:$sport qd=$dst:$dport
			case $src in *:*) qs="[$src]:$sport" qd="[$dst]:$dport" ;; esac
			want=$($PORTC query --format=json "$pol" "$proto" "$qs" "$qd" | jq -r .verdict)
			got=$(try "$proto" "$src" "$((sport + n))" "$dst" "$dport")
			# UDP cannot tell deny from reject on the wire
			[ "$proto" = udp ] && [ "$want" = reject ] && want=deny
			if [ "$want" = "$got" ]; then ok; else bad "e2e ($be): $proto $src -> $dst:$dport: portc query says $want, the kernel did $got"; fi
		done <<'EOF'
tcp 198.18.0.1 41000 198.18.0.2 8443
tcp 198.18.0.11 41000 198.18.0.2 8443
tcp 198.18.0.1 41000 198.18.0.2 8023
tcp 198.18.0.11 41000 198.18.0.2 8023
tcp 198.18.0.1 40010 198.18.0.2 9005
tcp 198.18.0.1 40500 198.18.0.2 9005
udp 198.18.0.1 42000 198.18.0.2 5060
udp 198.18.0.11 42000 198.18.0.2 5060
udp 198.18.0.1 42000 198.18.0.2 5061
tcp 2001:db8:ffff::1 43000 2001:db8:ffff::2 8443
tcp 2001:db8:ffff::1 43000 2001:db8:ffff::2 8023
tcp 2001:db8:ffff::1 43000 2001:db8:ffff::2 9005
udp 2001:db8:ffff::1 44000 2001:db8:ffff::2 5060
udp 2001:db8:ffff::1 44000 2001:db8:ffff::2 5061
EOF
		stop_servers
	done
}

# Starts `pkt recv SECONDS PROTO...` in R, writing to $1, and returns once it
# listens; its pid is in RECV_PID. The last receiver's "ready" must not be
# read as this one's: the shell truncates the file only when the new
# process starts, so it is removed first.
start_recv() {
	local out=$1
	shift
	rm -f "$tmp/recv.err"
	inR "$PKT" recv "$@" >"$out" 2>"$tmp/recv.err" &
	RECV_PID=$!
	while ! grep -q ready "$tmp/recv.err" 2>/dev/null; do sleep 0.05; done
}

# ---- DSCP on the wire ---------------------------------------------------------

suite_dscp() {
	local pol=tests/kernel/marks.pol
	for be in nftables iptables; do
		setup
		compile "$be" "$pol" "$tmp/marks" --hook=output || { bad "dscp: compile"; continue; }
		load "$A" "$be" "$tmp/marks" || { bad "dscp: load ($be)"; continue; }
		inR socat "TCP4-LISTEN:5006,bind=198.18.0.2,reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
		sleep 0.3
		start_recv "$tmp/marks.got" 2 17 6
		for i in 1 2 3; do printf 'PORTCu5004n%s.' "$i" | inA socat -u - UDP4:198.18.0.2:5004; done
		printf 'PORTCu5005.' | inA socat -u - UDP4:198.18.0.2:5005
		printf 'PORTCu5009.' | inA socat -u - UDP4:198.18.0.2:5009
		printf 'PORTCu6v5004.' | inA socat -u - "UDP6:[2001:db8:ffff::2]:5004"
		(printf 'PORTCt5006.'; sleep 0.3) | inA socat -T1 - TCP4:198.18.0.2:5006 >/dev/null 2>&1
		wait "$RECV_PID"
		stop_servers
		for want in "u5004n1 46" "u5004n2 46" "u5004n3 46" "u5005 34" "u5009 0" "u6v5004 46" "t5006 24"; do
			set -- $want
			got=$(awk -v id="$1" '$1 == id { print $4; exit }' "$tmp/marks.got")
			if [ "$got" = "$2" ]; then ok; else bad "dscp ($be): $1 arrived with DSCP '${got:-nothing}', the policy sets $2"; fi
		done
	done
}

# ---- differential -------------------------------------------------------------

# Sends the packets in $1 from the sender namespace (SEND_NS, its veth
# SEND_IF, to the MAC NEXT_MAC) and records what the receiver namespace
# (RECV_NS) got in $tmp/got. By default A sends to R.
exchange() {
	local rns=${RECV_NS:-$R}
	rm -f "$tmp/recv.err"
	ip netns exec "$rns" "$PKT" recv 1 6 17 1 58 47 50 132 >"$tmp/got" 2>"$tmp/recv.err" &
	RECV_PID=$!
	while ! grep -q ready "$tmp/recv.err" 2>/dev/null; do sleep 0.05; done
	if [ -n "${SEND_RAW:-}" ]; then
		ip netns exec "$SEND_NS" "$PKT" send-raw <"$1"
	else
		ip netns exec "${SEND_NS:-$A}" "$PKT" send "${SEND_IF:-va}" "${NEXT_MAC:-$RMAC}" <"$1"
	fi
	wait "$RECV_PID"
}

# Sends $tmp/packets, and compares what arrived with diffgen's verdicts.
send_and_compare() { # label backend
	local label=$1 be=$2
	exchange "$tmp/packets"
	# A veth can drop a frame under a burst before netfilter sees it, which
	# would read as "denied": what should have arrived and did not is sent
	# once more (a lost packet left no conntrack entry, so it is new again).
	# (FILENAME, not NR == FNR: the first file may be empty)
	awk 'FILENAME == ARGV[1] { got[$1 " " $2 " " $3] = 1; next }
	     $9 == "allow" && !(($1 " " $3 " " $8) in got)' "$tmp/got" "$tmp/packets" >"$tmp/retry"
	if [ -s "$tmp/retry" ]; then
		cp "$tmp/got" "$tmp/got.first"
		exchange "$tmp/retry"
		cat "$tmp/got.first" >>"$tmp/got"
	fi
	# a packet arrived when its id, protocol and type did; allowed ones
	# carry the policy's DSCP (nft marks the first packet; iptables cannot,
	# mangle comes before filter on INPUT)
	local result
	result=$(awk -v be="$be" '
		FILENAME == ARGV[1] { got[$1 " " $2 " " $3] = $4; next }
		{
			key = $1 " " $3 " " $8
			arrived = (key in got)
			if (($9 == "allow") != arrived) {
				bad++
				if (bad <= 8) printf "  packet %s: %s %s %s:%s -> %s:%s type %s hop limit %s: reference %s, kernel %s\n", \
					$1, ($2 == 4 ? "v4" : "v6"), $3, $4, $6, $5, $7, $8, $11, $9, arrived ? "accepted" : "dropped"
			} else if (arrived && be == "nftables" && got[key] != ($10 < 0 ? 0 : $10)) {
				bad++
				if (bad <= 8) printf "  packet %s: DSCP %s, reference %s\n", $1, got[key], $10
			}
			n++
			if ($9 == "allow") allowed++
		}
		END { printf "%d %d %d\n", n, allowed, bad }' "$tmp/got" "$tmp/packets")
	local summary
	summary=$(echo "$result" | tail -1)
	set -- $summary
	if [ "${1:-0}" = 0 ]; then
		bad "$label ($be): no packets compared"
	elif [ "${3:-1}" = 0 ]; then
		ok
		DIFF_PACKETS=$((DIFF_PACKETS + $1))
		eval "DIFF_$be=\$((DIFF_$be + $1))"
		echo "  $label ($be): $1 packets, $2 allowed, 0 mismatches"
	else
		echo "$result" | sed '$d'
		bad "$label ($be): ${3:-?} mismatches in ${1:-?} packets"
	fi
}
DIFF_PACKETS=0
DIFF_nftables=0
DIFF_iptables=0

# What every differential does once its namespaces are up: compile the
# policy (with the compile options given), load it on R, make diffgen's
# packets for HOOK and compare what arrives (send_and_compare, with the
# caller's SEND_* and RECV_NS).
diff_run() { # label policy backend hook [compile options]
	local label=$1 pol=$2 be=$3 hook=$4
	shift 4
	compile "$be" "$pol" "$tmp/diff" "$@" || { bad "$label: compile: $(cat "$tmp/compile.err")"; return; }
	load "$R" "$be" "$tmp/diff" || { bad "$label ($be): load"; return; }
	# shellcheck disable=SC2046
	$DIFFGEN -I stdlib $(args_for "$pol") --hook "$hook" --seed "${SEED:-1}" --count "$COUNT" "$pol" >"$tmp/packets" ||
		{ bad "$label: diffgen"; return; }
	if [ "$be" = nftables ]; then
		lift_and_verify "$label" "$pol" "$hook" "$@"
	else
		lift_and_verify_ipt "$label" "$pol" "$hook" "$@"
	fi
	send_and_compare "$label" "$be"
}

# The table R now runs, read back: its lift (lift.h) must decide every
# packet of the differential as the reference does, and portc verify must
# find it equal to the policy (exit 0), by content and by meaning.
lift_and_verify() { # label policy hook [compile options]
	local label=$1 pol=$2 hook=$3 table out
	shift 3
	table=$(sed -n 's/^table inet \([^ ]*\)$/\1/p' "$tmp/diff" | head -1)
	ip netns exec "$R" nft -j -n list table inet "$table" >"$tmp/listing.json" ||
		{ bad "$label: nft -j list table inet $table"; return; }
	if out=$($LIFTCHECK "$tmp/listing.json" "$hook" <"$tmp/packets" 2>&1); then
		ok
	else
		bad "$label: the lift of the loaded table differs from the reference: $(echo "$out" | head -5)"
	fi
	# shellcheck disable=SC2046
	if out=$(ip netns exec "$R" $PORTC verify $(args_for "$pol") "$@" "$pol" 2>&1); then
		ok
	else
		bad "$label: portc verify does not find the loaded table equal to the policy: $(echo "$out" | head -5)"
	fi
}

# The same for the iptables backend: the lift of portc's chains and sets as
# iptables-save, ip6tables-save and ipset save list them (ipt_table.h).
lift_and_verify_ipt() { # label policy hook [compile options]
	local label=$1 pol=$2 hook=$3 stem out
	shift 3
	stem=$(sed -n 's/^:PORTC-\([^-]*\)-.*/\1/p' "$tmp/diff.v4" | head -1)
	ip netns exec "$R" iptables-save >"$tmp/save4" && ip netns exec "$R" ip6tables-save >"$tmp/save6" &&
		ip netns exec "$R" ipset save >"$tmp/sets" || { bad "$label: iptables-save"; return; }
	if out=$($LIFTCHECK --iptables "$stem" "$tmp/save4" "$tmp/save6" "$tmp/sets" "$hook" <"$tmp/packets" 2>&1); then
		ok
	else
		bad "$label (iptables): the lift of the loaded chains differs from the reference: $(echo "$out" | head -5)"
	fi
	# shellcheck disable=SC2046
	if out=$(ip netns exec "$R" $PORTC verify -t iptables $(args_for "$pol") "$@" "$pol" 2>&1); then
		ok
	else
		bad "$label: portc verify -t iptables does not find the loaded chains equal to the policy: $(echo "$out" | head -5)"
	fi
}

# The policy on R's input hook (R takes every address as its own), the
# packets crafted in A.
differential() { # label policy backend
	setup bare
	anyip
	diff_run "differential $1" "$2" "$3" input
}

# The policy on R's output hook: R sends the packets itself, through raw
# sockets, to A (its default routes, to a permanent neighbour), and A takes
# every address as its own. R's own addresses are link-local, which no
# generated packet uses.
output_differential() { # label policy backend
	local label=$1 pol=$2 be=$3
	setup bare
	local amac
	amac=$(ip -n "$A" -j link show va | jq -r '.[0].address')
	ip -n "$R" addr add 169.254.0.2/30 dev vr
	ip -n "$R" -6 addr add fe80::2/64 dev vr nodad
	ip -n "$R" neigh replace 169.254.0.1 lladdr "$amac" dev vr nud permanent
	ip -n "$R" -6 neigh replace fe80::1 lladdr "$amac" dev vr nud permanent
	ip -n "$R" route add default via 169.254.0.1 dev vr onlink
	ip -n "$R" -6 route add default via fe80::1 dev vr
	anyip "$A" va
	SEND_RAW=1 SEND_NS=$R RECV_NS=$A diff_run "output $label" "$pol" "$be" output --hook=input,output
}

suite_differential() {
	# an estate of large overlapping groups (bench/genestate.py): lookups
	# cut where they grow, rules of large products left over named sets
	python3 bench/genestate.py 600 2 --except >"$tmp/estate.pol"
	for be in nftables iptables; do
		SEED=17 differential "estate-600" "$tmp/estate.pol" "$be"
		# large rules waiting behind a lookup, small ones moving past them
		SEED=21 differential "waiting.pol" tests/kernel/waiting.pol "$be"
	done
	# thousands of small groups: past NFT_MANY_SETS address sets (emit_nft.c)
	# the small ones are written as rules per prefix, behind chains of
	# rules per port; the reference must still agree packet by packet
	python3 tests/kernel/genpolicy.py 5 2500 4000 >"$tmp/many.pol"
	local inl
	inl=$($PORTC compile -t nftables --stats --format=json "$tmp/many.pol" -o "$tmp/many.nft" 2>&1 | jq .inline_sets)
	[ "${inl:-0}" -gt 0 ] && ok || bad "many-sets: no address set written as rules (inline_sets=$inl)"
	SEED=5 differential "many-sets" "$tmp/many.pol" nftables
	for pol in policies/*.pol; do
		for be in nftables iptables; do
			SEED=7 differential "$(basename "$pol")" "$pol" "$be"
		done
	done
	for seed in $SEEDS; do
		python3 tests/kernel/genpolicy.py "$seed" 30 >"$tmp/gen$seed.pol"
		if ! $PORTC check "$tmp/gen$seed.pol" >/dev/null 2>"$tmp/gen.err"; then
			bad "generated policy $seed does not check: $(head -3 "$tmp/gen.err")"
			continue
		fi
		for be in nftables iptables; do
			SEED=$seed differential "generated-$seed" "$tmp/gen$seed.pol" "$be"
		done
		# the same policy, stateless: every ICMP type, no conntrack help
		sed 's/^policy generated {/policy generated {\n    stateless;/' "$tmp/gen$seed.pol" >"$tmp/gen${seed}s.pol"
		SEED=$seed differential "generated-$seed-stateless" "$tmp/gen${seed}s.pol" nftables
	done
}

# The same, on the output hook of a ruleset for input and output.
suite_output() {
	for pol in policies/*.pol; do
		for be in nftables iptables; do
			SEED=9 output_differential "$(basename "$pol")" "$pol" "$be"
		done
	done
	for seed in $SEEDS; do
		python3 tests/kernel/genpolicy.py "$((seed + 200))" 30 >"$tmp/ogen$seed.pol"
		for be in nftables iptables; do
			SEED=$seed output_differential "generated-$((seed + 200))" "$tmp/ogen$seed.pol" "$be"
		done
	done
}

# ---- injection -----------------------------------------------------------------

suite_injection() {
	local pol=tests/kernel/injection.pol
	setup
	inR nft add table inet sentinel
	compile nftables "$pol" "$tmp/inj" || { bad "injection: compile"; return; }
	if inR nft -f "$tmp/inj" && inR nft -f "$tmp/inj"; then ok; else bad "injection: nft cannot load it"; fi
	inR nft list tables | grep -q sentinel && ok || bad "injection: a note flushed the ruleset"
	inR nft list tables | grep -q pwned && bad "injection: a note added a table" || ok
	# exactly the rules portc wrote: the lines of the input chain
	# (statements start two tabs in; lookup elements sit deeper)
	want=$(awk '/^\tchain input/ { on = 1; next } on && /^\t}/ { on = 0 } on && /^\t\t[^\t}]/ && !/type filter hook/ { n++ } END { print n }' "$tmp/inj")
	got=$(inR nft -j list chain inet portc_evil input | jq '[.nftables[] | select(.rule)] | length')
	[ "$want" = "$got" ] && ok || bad "injection: the input chain has $got rules, portc wrote $want"
	compile iptables "$pol" "$tmp/inj" || { bad "injection: compile (iptables)"; return; }
	if load "$R" iptables "$tmp/inj"; then ok; else bad "injection: iptables-restore cannot load it"; fi
	want=$(grep -c '^-A PORTC-evil-in ' "$tmp/inj.v4")
	got=$(inR iptables-save -t filter | grep -c '^-A PORTC-evil-in ')
	[ "$want" = "$got" ] && ok || bad "injection: iptables has $got rules in PORTC-evil-in, portc wrote $want"
	inR iptables-save -t filter | grep -q '^COMMIT' && [ "$(inR iptables-save -t filter | grep -c '^\*filter')" = 1 ] && ok ||
		bad "injection: a note opened a table"
}

. tests/kernel/hosts.sh
. tests/kernel/forms.sh
. tests/kernel/deploy.sh

for s in ${PORTC_KERNEL_SUITES:-load e2e dscp differential output injection loopback host coexist forms routed deploy deploy_ipt}; do
	echo "-- $s"
	"suite_$s"
done
echo "kernel: $pass passed, $fail failed; differential packets without a mismatch: $DIFF_nftables nftables, $DIFF_iptables iptables"
[ "$fail" = 0 ]
