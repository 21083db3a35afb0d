#!/usr/bin/env python3
"""Writes N distinct EVE alert lines for one tenant and gateway, made from
the first alert of an EVE file by moving its timestamp one millisecond per
line (each line is a new event for the store's per-event key).
   mkbatch.py EVE_FILE N TENANT GATEWAY > out.json"""
import datetime
import json
import sys

src, n, tenant, gw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = None
for line in open(src):
    e = json.loads(line)
    if e.get('event_type') == 'alert':
        base = e
        break
t0 = datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)
out = sys.stdout
for i in range(n):
    e = dict(base)
    t = t0 + datetime.timedelta(milliseconds=i)
    e['timestamp'] = t.strftime('%Y-%m-%dT%H:%M:%S.%f') + '+0000'
    om = dict(e.get('omamori', {}))
    om['tenant'] = tenant
    om['gateway'] = gw
    e['omamori'] = om
    out.write(json.dumps(e, separators=(',', ':')) + '\n')
