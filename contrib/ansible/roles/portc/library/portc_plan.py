#!/usr/bin/python3
# -*- coding: utf-8 -*-
# portc_plan: what applying a portc ruleset would change on this host.
#
# Read-only, so it runs in check mode too: `portc verify` says whether the
# running table is already the policy's, `portc apply --dry-run` gives the
# plan (portc diff's regions, with witness packets). The plan is returned
# as the task's diff, so `ansible-playbook --diff` prints it.

DOCUMENTATION = r"""
module: portc_plan
short_description: Compare a host's running portc table with a ruleset, and plan the change
description:
  - Runs C(portc verify --format=json) and, when the running table differs,
    C(portc apply --dry-run), on the managed host. Changes nothing.
options:
  portc:
    description: The portc binary on the host.
    type: path
    default: portc
  file:
    description: A policy (compiled on the host with I(defines)), a C(.nft) file portc compiled, or
      (target iptables) the C(.sh) of a bundle portc compiled.
    type: path
    required: true
  target:
    description: C(nftables) (portc's inet table) or C(iptables) (its chains and ipsets).
    type: str
    default: nftables
    choices: [nftables, iptables]
  defines:
    description: Parameter values, passed as C(-D NAME=VALUE).
    type: dict
    default: {}
  include:
    description: Import directories on the host, passed as C(-I DIR).
    type: list
    elements: path
    default: []
  policy:
    description: The policy to use when the file holds several (C(-p)).
    type: str
  hooks:
    description: The hooks to compile for (C(--hook)).
    type: str
"""

RETURN = r"""
table:
  description: The nftables table the ruleset owns, or (target iptables) the policy's stem, for
    C(portc apply --confirm).
  type: str
pending:
  description: The name of the file C(portc apply) waits with, under its run directory (before
    the network namespace's number).
  type: str
agree:
  description: Whether the running table is already the ruleset's.
  type: bool
drift:
  description: portc verify's text report when they differ.
  type: str
plan:
  description: portc apply --dry-run's plan when they differ.
  type: str
"""

import json

from ansible.module_utils.basic import AnsibleModule


def compile_args(p):
    args = []
    for d in p["include"]:
        args += ["-I", d]
    for k in sorted(p["defines"]):
        v = p["defines"][k]
        if isinstance(v, (list, tuple)):
            v = "{" + ", ".join(str(x) for x in v) + "}"
        args += ["-D", "%s=%s" % (k, v)]
    if p.get("policy"):
        args += ["-p", p["policy"]]
    if p.get("hooks"):
        args += ["--hook=" + p["hooks"]]
    return args


def main():
    m = AnsibleModule(
        argument_spec=dict(
            portc=dict(type="path", default="portc"),
            file=dict(type="path", required=True),
            defines=dict(type="dict", default={}),
            include=dict(type="list", elements="path", default=[]),
            policy=dict(type="str"),
            hooks=dict(type="str"),
            target=dict(type="str", default="nftables", choices=["nftables", "iptables"]),
        ),
        supports_check_mode=True,
    )
    p = m.params
    env = {"NO_COLOR": "1"}
    base = ["-t", p["target"]] + compile_args(p) + [p["file"]]

    # verify exits 0 (agree), 1 (drift) or 2 (cannot tell: say why)
    rc, out, err = m.run_command([p["portc"], "verify", "--format=json"] + base,
                                 environ_update=env)
    if rc not in (0, 1):
        m.fail_json(msg="portc verify failed: " + (err or out).strip(), rc=rc)
    try:
        v = json.loads(out)
    except ValueError:
        m.fail_json(msg="portc verify printed no JSON", stdout=out, stderr=err)
    table = v["table"]["name"]
    pending = ("iptables:" if p["target"] == "iptables" else "") + table
    if v["agree"]:
        m.exit_json(changed=False, agree=True, table=table, pending=pending, drift="", plan="")

    rc, drift, err = m.run_command([p["portc"], "verify"] + base, environ_update=env)
    rc, plan, err = m.run_command([p["portc"], "apply", "--dry-run"] + base,
                                  environ_update=env)
    if rc != 0:
        # nft -c (or iptables-restore --test) refused it, or the running
        # table cannot be snapshot
        m.fail_json(msg="portc apply --dry-run failed: " + err.strip(), rc=rc,
                    table=table, drift=drift)
    m.exit_json(changed=True, agree=False, table=table, pending=pending, drift=drift, plan=plan,
                diff=dict(prepared=plan))


if __name__ == "__main__":
    main()
