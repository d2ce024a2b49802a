#!/bin/bash
# run.sh BUILD - the Ansible role (contrib/ansible) rolls a policy out, with
# real ansible-playbook over real SSH.
#
# Three network namespaces, h1 h2 h3, each running its own sshd (key
# authentication, keys made for the run), joined to a bridge in a fourth,
# the controller's (198.18.0.1; host K is 198.18.0.2K), so that nothing of
# this machine's own network (its firewall, br_netfilter) is in the way. Every host
# gets tests/kernel/deploy.pol with its own -D values (its address, its
# application port 700K); h3 compiles on the host, h1 and h2 on the
# controller. The runs, in order:
#
#   check     --check --diff on hosts with no table: plans shown, nothing
#             loaded
#   bad-first the first batch's policy does not compile: the rollout stops
#             there, h2 and h3 are not reached
#   rollout   serial 1: every host gets its own table, confirmed after a new
#             SSH connection; checked with portc verify and with TCP
#             connections to each host's port and its neighbours'
#   again     a second run changes nothing
#   plan      --check --diff with a changed port: the plan names it, the
#             kernel keeps the old table
#   lockout   h1's new table shuts SSH out: the play cannot reconnect, never
#             confirms, h1 rolls itself back (connections work again), and
#             h2 is not reached
#   iptables  the same fleet with portc_target iptables: every host gets the
#             policy's chains and ipsets (beside its nftables table), checked
#             with portc verify -t iptables and TCP connections; a second
#             run changes nothing
#
# Needs root, network namespaces, ansible-playbook and sshd; says SKIP and
# why when one is missing.
set -u
B=$(cd "$1" && pwd)
PORTC=$B/portc
ROOT=$(pwd)
POL=$ROOT/tests/kernel/deploy.pol
export NO_COLOR=1
unset PORTC_PATH

skip() {
	echo "ansible: SKIP: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, sshd, nft)"
for t in ip nft ansible-playbook ssh ssh-keygen socat; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
[ -x /usr/sbin/sshd ] || skip "sshd is not installed (openssh-server)"
tag=pa$$
ip netns add "$tag-probe" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "$tag-probe"

tmp=$(mktemp -d)
chmod 755 "$tmp"
pass=0
fail=0
HOSTS="1 2 3"
BR=br0
cleanup() {
	for k in $HOSTS; do
		ip netns pids "$tag-h$k" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$tag-h$k" 2>/dev/null
	done
	ip netns pids "$tag-c" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$tag-c" 2>/dev/null
	# PORTC_TEST_KEEP=1 keeps the playbooks' logs and inventories
	if [ -n "${PORTC_TEST_KEEP:-}" ]; then echo "ansible: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
inh() { # k command...
	local k=$1
	shift
	ip netns exec "$tag-h$k" "$@"
}
inc() { ip netns exec "$tag-c" "$@"; }	# on the controller

# ---- the fleet ------------------------------------------------------------

ssh-keygen -q -t ed25519 -N '' -C portc-test -f "$tmp/id" || skip "ssh-keygen failed"
ssh-keygen -q -t ed25519 -N '' -C portc-test-host -f "$tmp/hostkey" || skip "ssh-keygen failed"
cp "$tmp/id.pub" "$tmp/authorized_keys"
mkdir -p /run/sshd
chmod 755 /run/sshd
# Without PAM, sshd refuses every login to a locked account ("!" in
# shadow), keys included, and some machines lock root's password. sshd
# then reads a copy with the lock taken off, in a mount namespace of its
# own; this machine's /etc/shadow is never changed.
shadow=
if awk -F: '$1 == "root" { exit !($2 ~ /^!/ || $2 == "*LK*") }' /etc/shadow 2>/dev/null; then
	shadow=$tmp/shadow
	awk -F: -v OFS=: '$1 == "root" { $2 = "*" } { print }' /etc/shadow >"$shadow"
	chmod 600 "$shadow"
fi
start_sshd() { # k
	local conf=$tmp/sshd$1.conf log=$tmp/sshd$1.log
	if [ -n "$shadow" ]; then
		inh "$1" unshare -m --propagation private sh -c \
			'mount --bind "$1" /etc/shadow && exec /usr/sbin/sshd -f "$2" -E "$3"' sh "$shadow" "$conf" "$log"
	else
		inh "$1" /usr/sbin/sshd -f "$conf" -E "$log"
	fi
}
ip netns add "$tag-c"
inc ip link set lo up
inc ip link add "$BR" type bridge || skip "cannot make a bridge"
inc ip addr add 198.18.0.1/24 dev "$BR"
inc ip link set "$BR" up
for k in $HOSTS; do
	ns=$tag-h$k
	ip netns add "$ns"
	inc ip link add "v$k" type veth peer name eth0 netns "$ns"
	inc ip link set "v$k" master "$BR" up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "198.18.0.2$k/24" dev eth0
	ip -n "$ns" link set eth0 up
	cat >"$tmp/sshd$k.conf" <<EOF
ListenAddress 198.18.0.2$k
HostKey $tmp/hostkey
PidFile $tmp/sshd$k.pid
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
EOF
	start_sshd "$k" || skip "sshd does not start in a namespace: $(cat "$tmp/sshd$k.log")"
	# a listener on every host's application port, on every host
	for p in 7001 7002 7003 7101; do
		inh "$k" socat -T 5 "TCP-LISTEN:$p,bind=198.18.0.2$k,reuseaddr,fork" SYSTEM:true &
	done
done
# -F /dev/null: no ssh_config of this machine's or root's applies
SSHOPT="-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2 -o BatchMode=yes"
for k in $HOSTS; do
	up=no
	for _ in $(seq 1 50); do
		# shellcheck disable=SC2086
		inc ssh $SSHOPT -i "$tmp/id" "root@198.18.0.2$k" true 2>"$tmp/ssh.err" && { up=yes; break; }
		sleep 0.1
	done
	[ $up = yes ] || skip "cannot log in to the sshd in namespace h$k: ssh says: $(cat "$tmp/ssh.err"); sshd says: $(tail -5 "$tmp/sshd$k.log")"
done

mkdir -p "$tmp/home" "$tmp/cp" "$tmp/alocal"
export HOME=$tmp/home
export ANSIBLE_CONFIG=$tmp/ansible.cfg
cat >"$ANSIBLE_CONFIG" <<EOF
[defaults]
roles_path = $ROOT/contrib/ansible/roles
local_tmp = $tmp/alocal
remote_tmp = /tmp/.portc-ansible-remote
host_key_checking = False
interpreter_python = /usr/bin/python3
deprecation_warnings = False
nocolor = True
forks = 5
[ssh_connection]
pipelining = True
control_path_dir = $tmp/cp
transfer_method = piped
EOF

# inventory NAME [HOST=DEFINES]...: the fleet with these per-host -D maps
# (the default for a host: its address and port 700K)
inventory() {
	local name=$1
	shift
	{
		echo "portc:"
		echo "  vars:"
		echo "    ansible_user: root"
		echo "    ansible_become: false"
		echo "    ansible_ssh_private_key_file: $tmp/id"
		echo "    ansible_ssh_common_args: $SSHOPT"
		echo "    portc_policy: $POL"
		echo "    portc_bin: $PORTC"
		echo "    portc_controller_bin: $PORTC"
		echo "    portc_confirm_timeout: 12"
		echo "    portc_connect_timeout: 5"
		echo "    portc_target: ${TARGET:-nftables}"
		echo "  hosts:"
		for k in $HOSTS; do
			local defs="{ server: 198.18.0.2$k, app: 700$k }" a
			for a in "$@"; do
				[ "${a%%=*}" = "h$k" ] && defs=${a#*=}
			done
			echo "    h$k:"
			echo "      ansible_host: 198.18.0.2$k"
			echo "      portc_defines: $defs"
			echo "      portc_dir: $tmp/etc-h$k"
			[ "$k" = 3 ] && echo "      portc_compile_on: host"
		done
	} >"$tmp/$name.yml"
	for k in $HOSTS; do mkdir -p "$tmp/etc-h$k"; done
}

play() { # log inventory serial [ansible-playbook args]...
	local log=$1 inv=$2 serial=$3
	shift 3
	inc ansible-playbook -i "$tmp/$inv.yml" -e "portc_serial=$serial" "$@" \
		"$ROOT/contrib/ansible/site.yml" >"$tmp/$log.log" 2>&1
}

has_table() { inh "$1" nft list table inet portc_deploy >/dev/null 2>&1; }
# verify K APP: host K's kernel runs deploy.pol with its address and APP
verify() { inh "$1" "$PORTC" verify -D "server=198.18.0.2$1" -D "app=$2" "$POL" >/dev/null 2>&1; }
# connects K PORT: a TCP connection from the controller to host K's PORT
connects() { inc socat -T 2 /dev/null "TCP:198.18.0.2$1:$2,connect-timeout=2" 2>/dev/null; }
reached() { grep -q "^ok: \[h$2\]\|^changed: \[h$2\]\|^fatal: \[h$2\]" "$tmp/$1.log"; }
show() { sed 's/^/    /' "$tmp/$1.log" | tail -40; }

# ---- check: nothing loaded, plans shown ----------------------------------------

inventory good
if play check good 3 --check --diff; then ok; else bad "check: ansible-playbook --check failed"; show check; fi
for k in $HOSTS; do
	if has_table "$k"; then bad "check: h$k has a table after --check"; else ok; fi
	# the plan of a host without a table is the summary of what would load
	if grep -q "h$k" "$tmp/check.log" && grep -q "plan: create table inet portc_deploy" "$tmp/check.log"; then ok; else
		bad "check: no plan for h$k in the --diff output"
		show check
	fi
done

# ---- bad-first: batch 1 fails its check, batch 2 is never reached --------------

inventory badfirst "h1={ server: 198.18.0.21, app: 99999 }"
if play badfirst badfirst 1; then bad "bad-first: the play succeeded with a port 99999"; else ok; fi
if grep -q "99999" "$tmp/badfirst.log"; then ok; else bad "bad-first: portc's error is not in the output"; show badfirst; fi
for k in 2 3; do
	if reached badfirst "$k"; then bad "bad-first: h$k was reached after batch 1 failed"; show badfirst; else ok; fi
done
for k in $HOSTS; do
	if has_table "$k"; then bad "bad-first: h$k has a table"; else ok; fi
done

# ---- rollout: every host its own table -----------------------------------------

if play rollout good 1; then ok; else bad "rollout: ansible-playbook failed"; show rollout; fi
for k in $HOSTS; do
	if verify "$k" "700$k"; then ok; else bad "rollout: h$k does not verify with app=700$k"; fi
	o=$((k % 3 + 1))
	if verify "$k" "700$o"; then bad "rollout: h$k verifies with app=700$o too"; else ok; fi
	if connects "$k" "700$k"; then ok; else bad "rollout: no connection to h$k port 700$k"; fi
	if connects "$k" "700$o"; then bad "rollout: h$k lets port 700$o in"; else ok; fi
	# the host keeps what it applied: the .nft from the controller, or the
	# policy it compiled itself
	if [ -s "$tmp/etc-h$k/deploy.nft" ] || [ -s "$tmp/etc-h$k/deploy.pol" ]; then ok; else
		bad "rollout: nothing kept in h$k's portc_dir"
	fi
	if pgrep -f "portc apply" >/dev/null; then bad "rollout: an apply is still waiting"; else ok; fi
done
# h3 compiled on the host: its policy was copied, not a compiled file
if [ -s "$tmp/etc-h3/deploy.pol" ] && [ -s "$tmp/etc-h1/deploy.nft" ]; then ok; else
	bad "rollout: h1 should keep a .nft, h3 (compiles on the host) a .pol"
fi

# ---- again: idempotent ------------------------------------------------------

if play again good 3; then ok; else bad "again: ansible-playbook failed"; show again; fi
for k in $HOSTS; do
	if grep -q "^h$k .*changed=0 .*failed=0" "$tmp/again.log"; then ok; else
		bad "again: h$k changed on a second run"
		show again
	fi
done

# ---- plan: check mode names the change, loads nothing --------------------------

inventory plan "h1={ server: 198.18.0.21, app: 7101 }"
if play plan plan 3 --check --diff; then ok; else bad "plan: ansible-playbook --check failed"; show plan; fi
if grep -q "dport 7101" "$tmp/plan.log" && grep -q "closed: allow -> deny" "$tmp/plan.log"; then ok; else
	bad "plan: the semantic plan (port 7001 closed, 7101 opened) is not in the --diff output"
	show plan
fi
if verify 1 7001; then ok; else bad "plan: h1's table changed in check mode"; fi

# ---- lockout: no new connection, no confirmation, rollback ------------------------

# h1's new table is for another address: SSH to 198.18.0.21 is shut out
inventory lockout "h1={ server: 198.18.0.99, app: 7001 }" "h2={ server: 198.18.0.22, app: 7101 }"
if play lockout lockout 1; then bad "lockout: the play succeeded although h1 shut SSH out"; else ok; fi
if grep -q "open a new one through the new ruleset" "$tmp/lockout.log" &&
	grep -q "^fatal: \[h1\]" "$tmp/lockout.log"; then ok; else
	bad "lockout: h1 did not fail at the new connection"
	show lockout
fi
if reached lockout 2; then bad "lockout: h2 was reached after batch 1 failed"; show lockout; else ok; fi
# h1's apply waits out its 12 s and loads the previous table back
for _ in $(seq 1 60); do
	pgrep -f "portc apply --confirm-timeout" >/dev/null || break
	sleep 1
done
if verify 1 7001; then ok; else bad "lockout: h1 did not roll back to its previous table"; fi
if connects 1 7001; then ok; else bad "lockout: no connection to h1 after the rollback"; fi
# shellcheck disable=SC2086
if inc ssh $SSHOPT -i "$tmp/id" root@198.18.0.21 true 2>/dev/null; then ok; else bad "lockout: no SSH to h1 after the rollback"; fi
if verify 2 7002; then ok; else bad "lockout: h2's table changed"; fi

# ---- iptables: the same role, the other backend ----------------------------------

TARGET=iptables inventory ipt
if play ipt ipt 1; then ok; else bad "iptables: ansible-playbook failed"; show ipt; fi
for k in $HOSTS; do
	if inh "$k" "$PORTC" verify -t iptables -D "server=198.18.0.2$k" -D "app=700$k" "$POL" >/dev/null 2>&1; then ok; else
		bad "iptables: h$k does not verify -t iptables with app=700$k"
	fi
	if inh "$k" iptables -S INPUT | grep -q -- '-j PORTC-deploy-in'; then ok; else bad "iptables: h$k has no jump to PORTC-deploy-in"; fi
	if connects "$k" "700$k"; then ok; else bad "iptables: no connection to h$k port 700$k"; fi
done
if [ -s "$tmp/etc-h1/deploy.sh" ] && [ -s "$tmp/etc-h1/deploy.v4" ] && [ -s "$tmp/etc-h3/deploy.pol" ]; then ok; else
	bad "iptables: h1 should keep the bundle, h3 (compiles on the host) the policy"
fi
if play ipt-again ipt 3; then ok; else bad "iptables: second run failed"; show ipt-again; fi
for k in $HOSTS; do
	if grep -q "^h$k .*changed=0 .*failed=0" "$tmp/ipt-again.log"; then ok; else
		bad "iptables: h$k changed on a second run"
		show ipt-again
	fi
done

echo "ansible: $pass passed, $fail failed"
[ "$fail" = 0 ]
