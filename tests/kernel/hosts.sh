# hosts.sh - sourced by run.sh: rulesets on a real host, beside others.
#
#   loopback   a default-deny input ruleset keeps lo working (and with
#              --no-loopback does not), exactly as `portc query` says
#   host       the Finesse policy, compiled once with no --hook, on a
#              "Finesse host" namespace between a desktop namespace and a
#              UCCE one: real TCP connections and UDP datagrams inbound,
#              outbound and on lo, each as `portc query` says
#   coexist    iptables output loaded beside Docker's and fail2ban's chains
#              and rules, loaded again, then rebuilt for other hooks and
#              reloaded: theirs stay byte for byte, the jumps stay single,
#              the earlier build's chains go; an nft table of another tool
#              stays too

# ---- loopback ---------------------------------------------------------------

suite_loopback() {
	local pol=tests/kernel/e2e.pol
	for be in nftables iptables; do
		for lo in on off; do
			setup
			local extra=""
			[ "$lo" = off ] && extra=--no-loopback
			# shellcheck disable=SC2086
			compile "$be" "$pol" "$tmp/lo" $extra || { bad "loopback: compile"; continue; }
			load "$R" "$be" "$tmp/lo" || { bad "loopback: load ($be)"; continue; }
			inR socat TCP4-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork SYSTEM:cat >/dev/null 2>&1 &
			inR socat TCP4-LISTEN:8081,bind=198.18.0.2,reuseaddr,fork SYSTEM:cat >/dev/null 2>&1 &
			inR socat "TCP6-LISTEN:8082,bind=[::1],reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
			sleep 0.3
			for pair in 127.0.0.1/127.0.0.1:8080 198.18.0.2/198.18.0.2:8081 ::1/::1:8082; do
				local src=${pair%%/*} dst=${pair#*/} a p fam=4 qs qd
				a=${dst%:*} p=${dst##*:}
				qs=$src:41000 qd=$dst
				case $src in *:*) fam=6 qs="[$src]:41000" qd="[$a]:$p" a="[$a]" src="[$src]" ;; esac
				# shellcheck disable=SC2086
				want=$($PORTC query --format=json $extra "$pol" tcp "$qs" "$qd" | jq -r .verdict)
				out=$(echo ping | inR timeout 4 socat -T2 - "TCP$fam:$a:$p,bind=$src,connect-timeout=2" 2>&1)
				got=deny
				[ "$out" = ping ] && got=allow
				if [ "$want" = "$got" ]; then ok; else bad "loopback ($be, lo $lo): $qs -> $qd: portc query says $want, the kernel did $got"; fi
			done
			stop_servers
		done
	done
}

# ---- a Finesse host ---------------------------------------------------------------

# D (a desktop, 198.18.64.9) - F (the Finesse host, 198.18.10.1) - U (UCCE,
# 198.18.20.1): F has a veth to each and a route to each one's subnet.
setup_finesse() {
	drop_ns
	for ns in "$D" "$F" "$U"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add fd netns "$F" type veth peer name df netns "$D"
	ip link add fu netns "$F" type veth peer name uf netns "$U"
	ip -n "$D" addr add 198.18.64.9/18 dev df
	ip -n "$F" addr add 198.18.10.1/29 dev fd
	ip -n "$U" addr add 198.18.20.1/28 dev uf
	ip -n "$D" link set df up
	ip -n "$F" link set fd up
	ip -n "$F" link set fu up
	ip -n "$U" link set uf up
	ip -n "$D" route add 198.18.10.0/29 dev df
	ip -n "$F" route add 198.18.64.0/18 dev fd
	ip -n "$F" route add 198.18.20.0/28 dev fu
	ip -n "$U" route add 198.18.10.0/29 dev uf
}

# ns proto src dst port: allow or deny, by a real connection or datagram
connect() {
	local ns=$1 proto=$2 src=$3 dst=$4 port=$5
	if [ "$proto" = tcp ]; then
		out=$(echo ping | ip netns exec "$ns" timeout 5 socat -T2 - "TCP4:$dst:$port,bind=$src,connect-timeout=2" 2>&1)
		if [ "$out" = ping ]; then echo allow; else echo deny; fi
	else
		local mark="m$RANDOM$RANDOM"
		echo "$mark" | ip netns exec "$ns" socat -u - "UDP4:$dst:$port,bind=$src" 2>/dev/null
		sleep 0.3
		if grep -q "$mark" "$tmp/udp$port" 2>/dev/null; then echo allow; else echo deny; fi
	fi
}

suite_host() {
	local pol=policies/cisco-finesse.pol
	local defs="-D finesse=198.18.10.0/29 -D desktops=198.18.64.0/18 -D ucce=198.18.20.0/28"
	for be in nftables iptables; do
		setup_finesse
		# once, with no --hook: the policy names its host
		# shellcheck disable=SC2086
		$PORTC compile -t "$be" $defs -Wno-unenforceable "$pol" -o "$tmp/fin" 2>"$tmp/compile.err" ||
			{ bad "host: compile: $(cat "$tmp/compile.err")"; continue; }
		load "$F" "$be" "$tmp/fin" || { bad "host: load ($be)"; continue; }
		for port in 8445 7443 22 9999; do
			ip netns exec "$F" socat "TCP4-LISTEN:$port,reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
		done
		ip netns exec "$F" socat TCP4-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork SYSTEM:cat >/dev/null 2>&1 &
		for port in 1433 5432; do
			ip netns exec "$U" socat "TCP4-LISTEN:$port,reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
		done
		rm -f "$tmp/udp5060"
		ip netns exec "$F" socat -u UDP4-RECV:5060 "OPEN:$tmp/udp5060,creat,append" >/dev/null 2>&1 &
		sleep 0.5
		local n=0
		while read -r who proto src dst port what; do
			[ -z "$who" ] && continue
			n=$((n + 1))
			local ns=$F
			case $who in D) ns=$D ;; U) ns=$U ;; esac
			# shellcheck disable=SC2086
			want=$($PORTC query --format=json $defs -Wno-unenforceable "$pol" "$proto" "$src:$((42000 + n))" "$dst:$port" | jq -r '.verdict + " " + .hook')
			hook=${want#* }
			want=${want% *}
			[ "$want" = reject ] && want=deny
			got=$(connect "$ns" "$proto" "$src" "$dst" "$port")
			if [ "$want" = "$got" ]; then
				ok
				echo "  host ($be): $what: $proto $src -> $dst:$port, $hook: $got, as query says"
			else
				bad "host ($be): $what: $proto $src -> $dst:$port ($hook): portc query says $want, the kernel did $got"
			fi
		done <<'ROWS'
D tcp 198.18.64.9 198.18.10.1 8445 desktop to Finesse HTTPS
D tcp 198.18.64.9 198.18.10.1 7443 desktop to Finesse BOSH
D tcp 198.18.64.9 198.18.10.1 22 desktop to Finesse ssh, not in the policy
D udp 198.18.64.9 198.18.10.1 5060 desktop to Finesse udp, not in the policy
U tcp 198.18.20.1 198.18.10.1 8445 UCCE to Finesse 8445, UCCE is no desktop
F tcp 198.18.10.1 198.18.20.1 1433 Finesse to the AW database
F tcp 198.18.10.1 198.18.20.1 5432 Finesse to UCCE 5432, not in the policy
F tcp 127.0.0.1 127.0.0.1 8080 Finesse to itself on lo
F tcp 198.18.10.1 198.18.10.1 9999 Finesse to its own address, over lo
ROWS
		stop_all
	done
}

# ---- coexistence ---------------------------------------------------------------------

# Everything of the filter, mangle and nat tables that is not portc's, as
# iptables-save prints it, without counters.
others() { # ns tool
	ip netns exec "$1" "$2-save" | grep -v '^#' | grep -v 'PORTC-' | sed 's/\[[0-9:]*\]//'
}

suite_coexist() {
	local pol=tests/golden/iptables/hooks.pol
	setup
	for tool in iptables ip6tables; do
		inR $tool -N DOCKER
		inR $tool -A DOCKER -j RETURN
		inR $tool -N DOCKER-USER
		inR $tool -A DOCKER-USER -j RETURN
		inR $tool -A FORWARD -j DOCKER-USER
		inR $tool -A FORWARD -j DOCKER
		inR $tool -N f2b-sshd
		inR $tool -A f2b-sshd -j RETURN
		inR $tool -A INPUT -p tcp --dport 22 -j f2b-sshd
		inR $tool -t mangle -A POSTROUTING -p udp --dport 4789 -j ACCEPT
	done
	inR iptables -t nat -A POSTROUTING -s 198.18.99.0/24 -j MASQUERADE
	inR ipset create f2b-sshd hash:ip
	inR nft add table inet other
	inR nft add chain inet other input '{ type filter hook input priority 10; policy accept; }'
	inR nft add rule inet other input tcp dport 9 counter
	local before4 before6
	before4=$(others "$R" iptables)
	before6=$(others "$R" ip6tables)
	compile iptables "$pol" "$tmp/co" --hook=input,output,forward || { bad "coexist: compile"; return; }
	if load "$R" iptables "$tmp/co" && load "$R" iptables "$tmp/co"; then ok; else bad "coexist: load"; return; fi
	# a changed policy, built for fewer hooks: the reload replaces
	sed 's/tcp 23 "no telnet anywhere"/tcp 23, 2323 "no telnet anywhere"/' "$pol" >"$tmp/co2.pol"
	compile iptables "$tmp/co2.pol" "$tmp/co2" --hook=input || { bad "coexist: compile 2"; return; }
	load "$R" iptables "$tmp/co2" || { bad "coexist: reload"; return; }
	if [ "$(others "$R" iptables)" = "$before4" ]; then ok; else
		bad "coexist: IPv4 rules not portc's changed: $(diff <(echo "$before4") <(others "$R" iptables) | head -5)"
	fi
	if [ "$(others "$R" ip6tables)" = "$before6" ]; then ok; else bad "coexist: IPv6 rules not portc's changed"; fi
	for tool in iptables ip6tables; do
		n=$(inR $tool -S INPUT | grep -c -- '-j PORTC-gw-in$')
		if [ "$n" = 1 ]; then ok; else bad "coexist ($tool): $n jumps to PORTC-gw-in, want 1"; fi
		# the chains there are exactly the ones the second build declares,
		# and no rule jumps to one of the first build's
		local file=$tmp/co2.v4 want got
		[ "$tool" = ip6tables ] && file=$tmp/co2.v6
		want=$(sed -n 's/^:\(PORTC-gw-[a-z0-9]*\) .*/\1/p' "$file" | sort | tr '\n' ' ')
		got=$( (inR $tool -t filter -S; inR $tool -t mangle -S) | sed -n 's/^-N \(PORTC-gw-.*\)$/\1/p' | sort | tr '\n' ' ')
		if [ -n "$want" ] && [ "$got" = "$want" ]; then ok; else bad "coexist ($tool): chains after the input build: $got; it declares: $want"; fi
		n=$( (inR $tool -t filter -S; inR $tool -t mangle -S) | grep -c -- '-j PORTC-gw-\(out\|fwd\|dscp\)$')
		if [ "$n" = 0 ]; then ok; else bad "coexist ($tool): $n jumps to the earlier build's chains remain"; fi
	done
	# the reloaded rules are in force: telnet and 2323 are rejected
	if inR iptables -S PORTC-gw-in | grep -q -- '--dports 23,2323'; then ok; else bad "coexist: the reload did not replace portc's rules"; fi
	if inR ipset list -n | grep -qx f2b-sshd; then ok; else bad "coexist: fail2ban's ipset is gone"; fi
	# portc's nftables table loads beside another tool's table and leaves it
	compile nftables "$pol" "$tmp/co.nft" --hook=input,output,forward --priority=-5 || { bad "coexist: nft compile"; return; }
	if inR nft -f "$tmp/co.nft" && inR nft -f "$tmp/co.nft"; then ok; else bad "coexist: nft load"; return; fi
	if inR nft list chain inet other input | grep -q 'tcp dport 9'; then ok; else bad "coexist: loading portc's table changed another table"; fi
	if [ "$(inR nft list tables | grep -c portc_gw)" = 1 ]; then ok; else bad "coexist: portc's table is not there once"; fi
}
