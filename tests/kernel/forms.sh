# forms.sh - sourced by run.sh: every rule form, and a routed topology.
#
#   forms    the rule-form corpus (genforms.py: every protocol, source and
#            destination port shape up to over multiport's limit, both
#            families and mixed groups, '<->', reject, log, dscp,
#            stateless), both backends, every hook and all three at once:
#            each build loads (twice, the second replacing the first), and
#            the differential runs on each kind
#   routed   the differential on client - router - server namespaces, the
#            policy on the router's forward hook: the bundled policies, the
#            corpus and generated ones, both backends

FORM_KINDS="ports types families options stateless"

suite_forms() {
	local kind be hooks
	for kind in $FORM_KINDS; do
		python3 tests/kernel/genforms.py "$kind" >"$tmp/forms-$kind.pol"
		if ! $PORTC check "$tmp/forms-$kind.pol" >/dev/null 2>"$tmp/forms.err" || [ -s "$tmp/forms.err" ]; then
			bad "forms $kind: the corpus does not check cleanly: $(head -3 "$tmp/forms.err")"
			continue
		fi
		local rules loaded=0 total=0
		rules=$(grep -c '"form ' "$tmp/forms-$kind.pol")
		for be in nftables iptables; do
			for hooks in input output forward input,output,forward; do
				total=$((total + 1))
				setup
				if ! compile "$be" "$tmp/forms-$kind.pol" "$tmp/forms" --hook=$hooks; then
					bad "forms $kind ($be, $hooks): does not compile: $(cat "$tmp/compile.err")"
				elif load "$R" "$be" "$tmp/forms" 2>"$tmp/load.err" && load "$R" "$be" "$tmp/forms" 2>>"$tmp/load.err"; then
					loaded=$((loaded + 1))
				else
					bad "forms $kind ($be, $hooks): does not load: $(head -3 "$tmp/load.err")"
				fi
			done
		done
		[ "$loaded" = "$total" ] && ok
		echo "  forms $kind: $rules rules, $loaded of $total builds (2 backends x 4 hook sets) loaded"
		for be in nftables iptables; do
			SEED=11 differential "forms-$kind" "$tmp/forms-$kind.pol" "$be"
		done
	done
}

# C (client) - R (router) - S (server). Crafted packets leave C for R's
# MAC; R routes everything to S (default routes to a permanent neighbour),
# and S takes every address as its own. R's addresses are link-local
# (169.254.0.0/16, fe80::/10), which no generated packet uses, so every
# packet R sees is routed, on its forward hook.
setup_routed() {
	drop_ns
	for ns in "$C" "$R" "$S"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add cr netns "$C" type veth peer name rc netns "$R"
	ip link add rs netns "$R" type veth peer name sr netns "$S"
	ip -n "$R" addr add 169.254.1.1/30 dev rc
	ip -n "$R" addr add 169.254.2.1/30 dev rs
	ip -n "$S" addr add 169.254.2.2/30 dev sr
	ip -n "$R" -6 addr add fe80::1/64 dev rs nodad
	ip -n "$S" -6 addr add fe80::2/64 dev sr nodad
	ip -n "$C" link set cr up
	ip -n "$R" link set rc up
	ip -n "$R" link set rs up
	ip -n "$S" link set sr up
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.rc.rp_filter=0 \
		net.ipv4.conf.rs.rp_filter=0
	local smac
	smac=$(ip -n "$S" -j link show sr | jq -r '.[0].address')
	ip -n "$R" neigh replace 169.254.2.2 lladdr "$smac" dev rs nud permanent
	ip -n "$R" -6 neigh replace fe80::2 lladdr "$smac" dev rs nud permanent
	ip -n "$R" route add default via 169.254.2.2 dev rs onlink
	ip -n "$R" -6 route add default via fe80::2 dev rs
	ip netns exec "$S" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.sr.rp_filter=0 net.ipv4.conf.all.accept_local=1 net.ipv4.conf.sr.accept_local=1
	ip -n "$S" route add local 0.0.0.0/0 dev lo table local
	ip -n "$S" -6 route add local ::/0 dev lo table local
	ROUTER_MAC=$(ip -n "$R" -j link show rc | jq -r '.[0].address')
}

routed() { # label policy backend
	setup_routed
	SEND_NS=$C SEND_IF=cr NEXT_MAC=$ROUTER_MAC RECV_NS=$S diff_run "routed $1" "$2" "$3" forward --hook=forward
}

suite_routed() {
	local pol be seed
	for pol in policies/*.pol; do
		for be in nftables iptables; do
			SEED=5 routed "$(basename "$pol")" "$pol" "$be"
		done
	done
	for kind in ports options; do
		python3 tests/kernel/genforms.py "$kind" >"$tmp/forms-$kind.pol"
		for be in nftables iptables; do
			SEED=13 routed "forms-$kind" "$tmp/forms-$kind.pol" "$be"
		done
	done
	for seed in $SEEDS; do
		python3 tests/kernel/genpolicy.py "$((seed + 100))" 30 >"$tmp/rgen$seed.pol"
		for be in nftables iptables; do
			SEED=$seed routed "generated-$((seed + 100))" "$tmp/rgen$seed.pol" "$be"
		done
	done
}
