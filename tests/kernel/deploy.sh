# deploy.sh - sourced by run.sh: portc apply and portc verify on R.
#
#   deploy   apply without a confirmation puts the previous table back;
#            apply then `portc apply --confirm` (and SIGUSR1's path through
#            the pending file) keeps it; SIGTERM during the wait rolls back;
#            a ruleset nft -c refuses is never loaded; --dry-run loads
#            nothing. Every one of these is checked with real TCP
#            connections from A, not by reading the ruleset back. Then
#            verify: a hand-added rule, a deleted set element and a foreign
#            chain jumped to from portc's input chain are each reported,
#            by content (named, with the handle) and by meaning (with a
#            witness packet that a real connection confirms where it can);
#            not root and nft missing are clear errors (exit 2).

POL_DEPLOY=tests/kernel/deploy.pol
TABLE_DEPLOY=portc_deploy

# Whether a TCP connection from A to R:PORT is answered.
tcp_open() { # port
	[ "$(echo ping | inA timeout 4 socat -T2 - "TCP4:198.18.0.2:$1,connect-timeout=1" 2>/dev/null)" = ping ]
}

expect_ports() { # label "open ports" "closed ports"
	local label=$1 p good=1
	for p in $2; do tcp_open "$p" || { bad "$label: tcp $p should be open"; good=0; }; done
	for p in $3; do tcp_open "$p" && { bad "$label: tcp $p should be closed"; good=0; }; done
	[ "$good" = 1 ] && ok
}

# Waits for the apply running in R to write its pending file.
wait_pending() {
	local i
	for i in $(seq 1 100); do
		ls "$PORTC_RUN_DIR"/$TABLE_DEPLOY.*.pending >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

apply_in_R() { # app-port [apply options...]
	local port=$1
	shift
	inR $PORTC apply -D app="$port" "$@" "$POL_DEPLOY" </dev/null >"$tmp/apply.out" 2>&1
}

suite_deploy() {
	setup
	export PORTC_RUN_DIR=$tmp/run
	local port
	for port in 7001 7002 7003 7004 7005; do
		inR socat "TCP4-LISTEN:$port,bind=198.18.0.2,reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
	done
	sleep 0.5
	expect_ports "deploy: no ruleset" "7001 7002" ""

	# the first table, kept at once
	apply_in_R 7001 --confirm-timeout=0
	[ $? = 0 ] && ok || bad "deploy: apply --confirm-timeout=0: $(cat "$tmp/apply.out")"
	expect_ports "deploy: first table" "7001" "7002"

	# a change nobody confirms: loaded while it waits, then rolled back
	apply_in_R 7002 --confirm-timeout=3 &
	local pid=$!
	if wait_pending; then
		expect_ports "deploy: while waiting" "7002" "7001"
	else
		bad "deploy: the waiting apply wrote no pending file"
	fi
	wait $pid
	local rc=$?
	[ $rc = 3 ] && ok || bad "deploy: an unconfirmed apply exits $rc, not 3: $(cat "$tmp/apply.out")"
	grep -q "rolled back" "$tmp/apply.out" && ok || bad "deploy: the unconfirmed apply does not say it rolled back"
	expect_ports "deploy: after the rollback" "7001" "7002"
	ls "$PORTC_RUN_DIR"/$TABLE_DEPLOY.*.pending >/dev/null 2>&1 && bad "deploy: a pending file outlives the apply" || ok

	# the plan names what the change does, with a witness
	inR $PORTC apply --dry-run -D app=7002 "$POL_DEPLOY" >"$tmp/plan.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q '^plan: hook input: opened: deny -> allow' "$tmp/plan.out" &&
		grep -q 'for example: tcp .*:7002$' "$tmp/plan.out" && grep -q 'for example: tcp .*:7001$' "$tmp/plan.out"; then
		ok
	else
		bad "deploy: --dry-run plan (exit $rc): $(head -12 "$tmp/plan.out")"
	fi
	expect_ports "deploy: after --dry-run" "7001" "7002"

	# SIGTERM during the wait (the session went away): rolled back
	apply_in_R 7002 --confirm-timeout=30 &
	pid=$!
	if wait_pending; then
		inR pkill -TERM -f "portc apply -D app=7002" || true
	fi
	wait $pid
	rc=$?
	[ $rc = 3 ] && ok || bad "deploy: apply after SIGTERM exits $rc, not 3: $(cat "$tmp/apply.out")"
	expect_ports "deploy: after SIGTERM" "7001" "7002"

	# confirmed from another shell: kept
	apply_in_R 7002 --confirm-timeout=30 &
	pid=$!
	if wait_pending && inR $PORTC apply --confirm "$TABLE_DEPLOY" >"$tmp/confirm.out" 2>&1; then
		ok
	else
		bad "deploy: apply --confirm: $(cat "$tmp/confirm.out" 2>/dev/null)"
	fi
	wait $pid
	rc=$?
	[ $rc = 0 ] && ok || bad "deploy: a confirmed apply exits $rc: $(cat "$tmp/apply.out")"
	expect_ports "deploy: confirmed" "7002" "7001"
	inR $PORTC apply --confirm "$TABLE_DEPLOY" >/dev/null 2>&1
	[ $? = 1 ] && ok || bad "deploy: --confirm with nothing waiting does not exit 1"

	# a ruleset nft refuses is never loaded
	inR $PORTC compile -t nftables -D app=7003 "$POL_DEPLOY" -o "$tmp/bad.nft"
	sed -i 's/tcp dport 22 accept/tcp dport 22 acept/' "$tmp/bad.nft"
	inR $PORTC apply --confirm-timeout=0 "$tmp/bad.nft" >"$tmp/apply.out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -q "nft refuses" "$tmp/apply.out" && ok ||
		bad "deploy: a ruleset nft refuses: exit $rc: $(head -5 "$tmp/apply.out")"
	expect_ports "deploy: after the refused ruleset" "7002" "7001 7003"

	# verify: the kernel's table as applied
	inR $PORTC verify -D app=7002 "$POL_DEPLOY" >"$tmp/verify.out" 2>&1
	rc=$?
	[ $rc = 0 ] && ok || bad "deploy: verify of the applied table exits $rc: $(head -5 "$tmp/verify.out")"
	inR $PORTC verify -D app=7001 "$POL_DEPLOY" >"$tmp/verify.out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -q 'for example: tcp .*:7001$' "$tmp/verify.out" && ok ||
		bad "deploy: verify against the other parameter exits $rc: $(head -5 "$tmp/verify.out")"

	# a hand-added rule
	inR nft add rule inet $TABLE_DEPLOY input tcp dport 7003 accept
	verify_json "hand-added rule" 7002
	jq -e '[.content[] | select(.kind == "rule-extra" and .chain == "input" and (.handle | type) == "number"
		and .text == "tcp dport 7003 accept")] | length == 1' "$tmp/verify.json" >/dev/null && ok ||
		bad "deploy: verify does not name the hand-added rule: $(head -c 600 "$tmp/verify.json")"
	witness_opens "hand-added rule" 7003
	apply_in_R 7002 --confirm-timeout=0

	# a deleted set element: the ssh element of one admin
	inR nft delete element inet $TABLE_DEPLOY lookup_1 '{ 198.18.0.1 . 198.18.0.2 . 0-65535 . 22 }'
	verify_json "deleted set element" 7002
	jq -e '[.content[] | select(.kind == "element-missing" and .set == "lookup_1"
		and (.text | startswith("198.18.0.1 . 198.18.0.2 . 0-65535 . 22")))] | length == 1' "$tmp/verify.json" >/dev/null && ok ||
		bad "deploy: verify does not name the deleted element: $(head -c 600 "$tmp/verify.json")"
	jq -e '[.changes[] | select(.kind == "closed" and .witness.source == "198.18.0.1" and .witness.dport == 22)] | length == 1' \
		"$tmp/verify.json" >/dev/null && ok || bad "deploy: no closed witness from 198.18.0.1 to port 22"
	apply_in_R 7002 --confirm-timeout=0

	# a foreign chain in portc's table, jumped to first
	inR nft add chain inet $TABLE_DEPLOY sneaky
	inR nft add rule inet $TABLE_DEPLOY sneaky tcp dport 7004 accept
	inR nft insert rule inet $TABLE_DEPLOY input jump sneaky
	verify_json "foreign chain" 7002
	jq -e '([.content[] | select(.kind == "chain-extra" and .chain == "sneaky")] | length == 1) and
		([.content[] | select(.kind == "rule-extra" and .chain == "input" and .text == "jump sneaky")] | length == 1) and
		([.content[] | select(.kind == "rule-extra" and .chain == "sneaky" and .text == "tcp dport 7004 accept")] | length == 1)' \
		"$tmp/verify.json" >/dev/null && ok || bad "deploy: verify does not name the foreign chain and rules: $(head -c 800 "$tmp/verify.json")"
	witness_opens "foreign chain" 7004
	inR $PORTC verify -D app=7002 "$POL_DEPLOY" >"$tmp/verify.out" 2>&1
	grep -q '^rule portc did not emit: chain sneaky, handle [0-9]*: tcp dport 7004 accept$' "$tmp/verify.out" && ok ||
		bad "deploy: verify's text does not name the foreign rule: $(head -8 "$tmp/verify.out")"

	# verify when the table is gone
	inR nft delete table inet $TABLE_DEPLOY
	inR $PORTC verify -D app=7002 "$POL_DEPLOY" >"$tmp/verify.out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -q 'table missing from the kernel' "$tmp/verify.out" && ok ||
		bad "deploy: verify of a missing table exits $rc: $(head -3 "$tmp/verify.out")"

	# errors: not root, no nft
	local out
	out=$(inR setpriv --reuid=65534 --regid=65534 --clear-groups $PORTC verify -D app=7002 "$POL_DEPLOY" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "run it as root" && ok || bad "deploy: verify as nobody exits $rc: $out"
	out=$(inR env PATH=/nonexistent $PORTC apply -D app=7002 "$POL_DEPLOY" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "needs nft" && ok || bad "deploy: apply without nft exits $rc: $out"
	unset PORTC_RUN_DIR
}

verify_json() { # label app-port
	inR $PORTC verify --format=json -D app="$2" "$POL_DEPLOY" >"$tmp/verify.json" 2>"$tmp/verify.err"
	local rc=$?
	[ $rc = 1 ] && jq -e '.agree == false' "$tmp/verify.json" >/dev/null && ok ||
		bad "deploy: $1: verify exits $rc: $(cat "$tmp/verify.err") $(head -c 300 "$tmp/verify.json")"
}

# The drift opened PORT: verify's witness says so, and a real connection
# from A to it gets through.
witness_opens() { # label port
	jq -e --argjson p "$2" '[.changes[] | select(.kind == "opened" and .witness.dport == $p and .witness.protocol == 6)] | length >= 1' \
		"$tmp/verify.json" >/dev/null && ok || bad "deploy: $1: no opened witness to port $2"
	expect_ports "deploy: $1 (the drift is real)" "$2" ""
}

# ---- the iptables backend ---------------------------------------------------------
#
# The same with -t iptables: the rollback and the confirmation checked by
# connections; a bundle iptables-restore --test refuses never loaded; and
# verify on a hand-added rule in portc's chain, a deleted element of
# portc's ipset, a foreign chain jumped to from portc's chain and a rule
# ahead of portc's jump in INPUT, each named and each with a witness that a
# real connection confirms. The clients are five prefixes, so that they
# become an ipset; A (198.18.0.1) is one of them.

CLIENTS_IPT='clients={198.18.0.1, 198.18.0.64/28, 198.18.0.96/28, 198.18.0.128/28, 198.18.0.160/28}'

ipt_apply_in_R() { # app-port [apply options...]
	local port=$1
	shift
	inR $PORTC apply -t iptables -D "$CLIENTS_IPT" -D app="$port" "$@" "$POL_DEPLOY" </dev/null >"$tmp/apply.out" 2>&1
}

ipt_wait_pending() {
	local i
	for i in $(seq 1 100); do
		ls "$PORTC_RUN_DIR"/iptables:deploy.*.pending >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

ipt_verify_json() { # label app-port
	inR $PORTC verify -t iptables --format=json -D "$CLIENTS_IPT" -D app="$2" "$POL_DEPLOY" >"$tmp/verify.json" 2>"$tmp/verify.err"
	local rc=$?
	[ $rc = 1 ] && jq -e '.agree == false and .table.family == "iptables" and .table.name == "deploy"' "$tmp/verify.json" >/dev/null && ok ||
		bad "deploy-iptables: $1: verify exits $rc: $(cat "$tmp/verify.err") $(head -c 300 "$tmp/verify.json")"
}

# What portc's part of R's iptables and ipsets holds, as text to compare.
# (A table iptables made on the way and left empty is nobody's.)
ipt_state() {
	local t
	for t in iptables ip6tables; do
		inR $t-save | awk -v t=$t '/^\*/ { table = $0 } /^(-A |:[^ ]+ - )/ { print t, table, $0 }' |
			sed 's/\[[0-9]*:[0-9]*\]//'
	done
	inR ipset save | sed 's/ initval [0-9a-fx]*//' | sort
}

suite_deploy_ipt() {
	setup
	export PORTC_RUN_DIR=$tmp/run
	local port rc pid
	for port in 7001 7002 7003 7004 7005; do
		inR socat "TCP4-LISTEN:$port,bind=198.18.0.2,reuseaddr,fork" SYSTEM:cat >/dev/null 2>&1 &
	done
	sleep 0.5
	# someone else's rules beside portc's, which nothing of portc's may touch
	inR iptables -N DOCKER
	inR iptables -A DOCKER -p tcp --dport 7005 -j ACCEPT
	inR iptables -A INPUT -j DOCKER
	expect_ports "deploy-iptables: no ruleset" "7001 7002" ""

	# a first apply nobody confirms leaves nothing of portc's behind
	ipt_state >"$tmp/ipt.before"
	ipt_apply_in_R 7001 --confirm-timeout=1
	rc=$?
	ipt_state >"$tmp/ipt.after"
	[ $rc = 3 ] && diff "$tmp/ipt.before" "$tmp/ipt.after" >"$tmp/ipt.diff" && ok ||
		bad "deploy-iptables: an unconfirmed first apply (exit $rc) left: $(head -20 "$tmp/ipt.diff")"
	expect_ports "deploy-iptables: after the first rollback" "7001 7002" ""

	ipt_apply_in_R 7001 --confirm-timeout=0
	rc=$?
	[ $rc = 0 ] && inR ipset list -n | grep -q '^pc-deploy-' && ok ||
		bad "deploy-iptables: first apply exits $rc (or made no ipset): $(cat "$tmp/apply.out")"
	expect_ports "deploy-iptables: first build" "7001" "7002 7005"
	ipt_state >"$tmp/ipt.before"

	# unconfirmed: loaded while it waits, then everything as it was
	ipt_apply_in_R 7002 --confirm-timeout=3 &
	pid=$!
	if ipt_wait_pending; then
		expect_ports "deploy-iptables: while waiting" "7002" "7001"
	else
		bad "deploy-iptables: the waiting apply wrote no pending file"
	fi
	wait $pid
	rc=$?
	[ $rc = 3 ] && grep -q "rolled back" "$tmp/apply.out" && ok ||
		bad "deploy-iptables: an unconfirmed apply exits $rc, not 3: $(cat "$tmp/apply.out")"
	expect_ports "deploy-iptables: after the rollback" "7001" "7002 7005"
	ipt_state >"$tmp/ipt.after"
	diff "$tmp/ipt.before" "$tmp/ipt.after" >"$tmp/ipt.diff" && ok ||
		bad "deploy-iptables: the rollback left other rules or sets: $(head -20 "$tmp/ipt.diff")"

	# confirmed from another shell: kept
	ipt_apply_in_R 7002 --confirm-timeout=30 &
	pid=$!
	if ipt_wait_pending && inR $PORTC apply -t iptables --confirm deploy >"$tmp/confirm.out" 2>&1; then
		ok
	else
		bad "deploy-iptables: apply -t iptables --confirm: $(cat "$tmp/confirm.out" 2>/dev/null)"
	fi
	wait $pid
	rc=$?
	[ $rc = 0 ] && ok || bad "deploy-iptables: a confirmed apply exits $rc: $(cat "$tmp/apply.out")"
	expect_ports "deploy-iptables: confirmed" "7002" "7001 7005"
	inR iptables -S DOCKER | grep -q -- '--dport 7005 -j ACCEPT' && inR iptables -S INPUT | grep -q -- '-j DOCKER' && ok ||
		bad "deploy-iptables: someone else's chain or jump was touched"

	# a bundle iptables-restore --test refuses is never loaded
	inR $PORTC compile -t iptables -D "$CLIENTS_IPT" -D app=7003 "$POL_DEPLOY" -o "$tmp/bad"
	sed -i '0,/--dport 22 /s//--dport 22 -m nosuchmodule /' "$tmp/bad.v4"
	ipt_state >"$tmp/ipt.before"
	inR $PORTC apply -t iptables --confirm-timeout=0 "$tmp/bad.sh" >"$tmp/apply.out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -q "iptables-restore --test refuses" "$tmp/apply.out" && ok ||
		bad "deploy-iptables: a bundle iptables-restore refuses: exit $rc: $(head -5 "$tmp/apply.out")"
	ipt_state >"$tmp/ipt.after"
	diff -q "$tmp/ipt.before" "$tmp/ipt.after" >/dev/null && ok || bad "deploy-iptables: the refused bundle changed the kernel"
	expect_ports "deploy-iptables: after the refused bundle" "7002" "7001 7003"

	# verify: as applied, and against the other parameter
	inR $PORTC verify -t iptables -D "$CLIENTS_IPT" -D app=7002 "$POL_DEPLOY" >"$tmp/verify.out" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -q 'the kernel agrees with the policy' "$tmp/verify.out" && ok ||
		bad "deploy-iptables: verify of the applied rules exits $rc: $(head -5 "$tmp/verify.out")"
	inR $PORTC verify -t iptables -D "$CLIENTS_IPT" -D app=7001 "$POL_DEPLOY" >"$tmp/verify.out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -q 'for example: tcp .*:7001$' "$tmp/verify.out" && ok ||
		bad "deploy-iptables: verify against the other parameter exits $rc: $(head -5 "$tmp/verify.out")"

	# a hand-added rule in portc's chain, ahead of its default
	inR iptables -I PORTC-deploy-in 4 -p tcp --dport 7003 -j ACCEPT
	ipt_verify_json "hand-added rule" 7002
	jq -e '[.content[] | select(.kind == "rule-extra" and .chain == "iptables PORTC-deploy-in" and .handle == 4
		and .text == "-A PORTC-deploy-in -p tcp -m tcp --dport 7003 -j ACCEPT")] | length == 1' "$tmp/verify.json" >/dev/null && ok ||
		bad "deploy-iptables: verify does not name the hand-added rule: $(head -c 600 "$tmp/verify.json")"
	witness_opens "iptables hand-added rule" 7003
	ipt_apply_in_R 7002 --confirm-timeout=0

	# a deleted element of portc's ipset: A's own address
	local set
	set=$(inR ipset list -n | grep '^pc-deploy-' | head -1)
	inR ipset del "$set" 198.18.0.1
	ipt_verify_json "deleted set element" 7002
	jq -e --arg s "$set" '[.content[] | select(.kind == "element-missing" and .set == $s and .text == "198.18.0.1")] | length == 1' \
		"$tmp/verify.json" >/dev/null && ok || bad "deploy-iptables: verify does not name the deleted element: $(head -c 600 "$tmp/verify.json")"
	jq -e '[.changes[] | select(.kind == "closed" and .witness.source == "198.18.0.1" and .witness.dport == 7002)] | length == 1' \
		"$tmp/verify.json" >/dev/null && ok || bad "deploy-iptables: no closed witness from 198.18.0.1 to port 7002"
	expect_ports "deploy-iptables: deleted set element (the drift is real)" "" "7002"
	ipt_apply_in_R 7002 --confirm-timeout=0
	expect_ports "deploy-iptables: reapplied" "7002" ""

	# a foreign chain, jumped to from portc's chain
	inR iptables -N SNEAKY
	inR iptables -A SNEAKY -p tcp --dport 7004 -j ACCEPT
	inR iptables -I PORTC-deploy-in 1 -j SNEAKY
	ipt_verify_json "foreign chain" 7002
	jq -e '([.content[] | select(.kind == "chain-extra" and .chain == "iptables SNEAKY")] | length == 1) and
		([.content[] | select(.kind == "rule-extra" and .chain == "iptables PORTC-deploy-in" and .text == "-A PORTC-deploy-in -j SNEAKY")] | length == 1) and
		([.content[] | select(.kind == "rule-extra" and .chain == "iptables SNEAKY" and .text == "-A SNEAKY -p tcp -m tcp --dport 7004 -j ACCEPT")] | length == 1)' \
		"$tmp/verify.json" >/dev/null && ok || bad "deploy-iptables: verify does not name the foreign chain and rules: $(head -c 800 "$tmp/verify.json")"
	witness_opens "iptables foreign chain" 7004
	# reapplying replaces portc's chain; the foreign chain is someone else's
	ipt_apply_in_R 7002 --confirm-timeout=0
	inR iptables -S SNEAKY >/dev/null 2>&1 && ok || bad "deploy-iptables: apply removed someone else's chain"
	expect_ports "deploy-iptables: the jump to the foreign chain is gone" "7002" "7004"

	# a rule ahead of portc's jump in INPUT
	inR iptables -I INPUT 1 -p tcp --dport 7005 -j ACCEPT
	ipt_verify_json "rule ahead of the jump" 7002
	jq -e '[.content[] | select(.kind == "rule-extra" and .chain == "input" and .handle == 1
		and .text == "iptables -A INPUT -p tcp -m tcp --dport 7005 -j ACCEPT")] | length == 1' "$tmp/verify.json" >/dev/null && ok ||
		bad "deploy-iptables: verify does not name the rule ahead of the jump: $(head -c 600 "$tmp/verify.json")"
	witness_opens "iptables rule ahead of the jump" 7005
	inR iptables -D INPUT 1

	# as applied: a plan with no change
	inR $PORTC apply -t iptables -D "$CLIENTS_IPT" -D app=7002 --confirm-timeout=0 --dry-run "$POL_DEPLOY" >"$tmp/plan.out" 2>&1
	grep -q 'no packet is decided otherwise than now' "$tmp/plan.out" && ok || bad "deploy-iptables: a plan of no change: $(head -5 "$tmp/plan.out")"

	# errors: not root, no ipset
	local out
	out=$(inR setpriv --reuid=65534 --regid=65534 --clear-groups $PORTC verify -t iptables -D app=7002 "$POL_DEPLOY" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "run it as root" && ok || bad "deploy-iptables: verify as nobody exits $rc: $out"
	out=$(inR env PATH=/nonexistent $PORTC apply -t iptables -D app=7002 "$POL_DEPLOY" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "needs iptables-restore" && ok || bad "deploy-iptables: apply without iptables exits $rc: $out"
	unset PORTC_RUN_DIR
}
