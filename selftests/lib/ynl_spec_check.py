#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check what the ynl generator cannot: that the parts of tscf still written
by hand agree with docs/netlink/tscf.yaml.

  ynl_spec_check.py SPEC SCHEMA TOP

- SPEC is valid against SCHEMA (genetlink-legacy.yaml);
- every command and every multicast group needs uns-admin-perm (the module
  gives each generated group GENL_MCAST_CAP_NET_ADMIN, 6.12's ynl-gen
  does not emit group flags);
- the kernel has no netlink policy or ops table of its own: kmod/*.c
  other than netlink-gen.c defines no nla_policy or genl_*ops array;
- the tests' client selftests/lib/tscf_nl.py uses the spec's numbers:
  commands, attributes, tunnel attributes, counters, groups.
Prints each disagreement; exit status 1 if there is any.
"""
import glob
import os
import re
import sys

import jsonschema
import yaml


def values(entries, first=0):
    """name -> value of a spec list (attributes, ops, enum entries)."""
    out, val = {}, first
    for e in entries:
        if isinstance(e, str):
            e = {'name': e}
        val = e.get('value', val)
        out[e['name']] = val
        val += 1
    return out


def main(spec_path, schema_path, top):
    bad = []
    spec = yaml.safe_load(open(spec_path))
    schema = yaml.safe_load(open(schema_path))
    try:
        jsonschema.validate(spec, schema)
    except jsonschema.ValidationError as e:
        bad.append(f'spec not valid against {os.path.basename(schema_path)}: {e.message}')

    for op in spec['operations']['list']:
        if ('do' in op or 'dump' in op) and op.get('flags') != ['uns-admin-perm']:
            bad.append(f"command {op['name']}: flags {op.get('flags')}, want [uns-admin-perm]")
    for grp in spec['mcast-groups']['list']:
        if grp.get('flags') != ['uns-admin-perm']:
            bad.append(f"group {grp['name']}: flags {grp.get('flags')}, want [uns-admin-perm]"
                       " (kmod/netlink.c gives every group GENL_MCAST_CAP_NET_ADMIN)")

    decl = re.compile(r'^\s*(static\s+)?(const\s+)?struct\s+'
                      r'(nla_policy|genl_small_ops|genl_ops|genl_split_ops)\s+\w+\s*\[',
                      re.M)
    for f in sorted(glob.glob(os.path.join(top, 'kmod', '*.c'))):
        if os.path.basename(f) == 'netlink-gen.c':
            continue
        for m in decl.finditer(open(f).read()):
            bad.append(f'{os.path.relpath(f, top)}: hand-written table: {m.group(0).strip()}')

    sys.path.insert(0, os.path.join(top, 'selftests', 'lib'))
    import tscf_nl
    sets = {s['name']: values(s['attributes']) for s in spec['attribute-sets']}
    ops = values(spec['operations']['list'])

    def up(n):
        return n.upper().replace('-', '_')

    def same(what, got, want):
        if got != want:
            bad.append(f'tscf_nl.py {what}: {got}, spec: {want}')
    same('CMD', tscf_nl.CMD, {up(k): v for k, v in ops.items()})
    same('A', tscf_nl.A, {up(k): v for k, v in sets['tscf'].items() if v})
    want_t = {up(k): v for k, v in sets['tunnel'].items()
              if v and k not in ('pad', 'owned')}
    same('T', tscf_nl.T, want_t)
    stats = sets['stats']
    want_s = [None] * max(stats.values())
    for k, v in stats.items():
        if v and k != 'pad':
            want_s[v - 1] = k.replace('-', '_')
    same('STATS', tscf_nl.STATS, want_s)
    same('GROUPS', list(tscf_nl.GROUPS), [g['name'] for g in spec['mcast-groups']['list']])

    for b in bad:
        print('ynl-spec-check:', b)
    print(f'ynl-spec-check: {len(bad)} disagreements')
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
