#!/usr/bin/env python3
"""Data for bench/console.

  console-gen.py batches DIR GATEWAYS EVENTS
      one gzip batch of EVENTS distinct EVE alert lines per gateway g0000..,
      each gateway in its own tenant c0000..; DIR/creds.sql registers them
      (tenants and gateways with known credentials) and DIR/curl.cfg is a
      curl config pushing every batch (one transfer per gateway).
  console-gen.py year DB COMPANIES EVENTS_PER_DAY
      a year of events (ending today) for COMPANIES tenants straight into the
      store's tables (events, rollup_daily, watched), for the dashboard
      latency; the console's own tables come from `omamori console`."""
import datetime
import gzip
import hashlib
import json
import os
import random
import sqlite3
import sys


def eve(tenant, gw, t, i, cat='recon', sev=2, action='detected'):
    return {
        'timestamp': t.strftime('%Y-%m-%dT%H:%M:%S.%f') + '+0000',
        'event_type': 'alert',
        'src_ip': '203.0.113.%d' % (i % 250 + 1), 'src_port': 40000 + i % 20000,
        'dest_ip': '192.168.10.%d' % (i % 200 + 2), 'dest_port': 1 + i % 1024, 'proto': 'TCP',
        'alert': {'action': 'allowed', 'gid': 1, 'signature_id': 9000001, 'rev': 1,
                  'signature': 'OMAMORI RECON vertical port scan',
                  'category': 'Detection of a Network Scan', 'severity': sev},
        'omamori': {'category': cat, 'severity': sev, 'action': action,
                    'tenant': tenant, 'gateway': gw, 'advice': 'recon.portscan'},
    }


def batches(d, ngw, nev):
    os.makedirs(d, exist_ok=True)
    t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    sql = ['BEGIN;']
    cfg = []
    for g in range(ngw):
        tenant, gw = 'c%04d' % g, 'g%04d' % g
        cred = 'bench-credential-%04d-%s' % (g, 'x' * 20)
        h = hashlib.blake2b(cred.encode(), digest_size=32).hexdigest()
        sql.append("INSERT INTO console_tenants (id, name) VALUES ('%s', 'Company %d') ON CONFLICT DO NOTHING;" % (tenant, g))
        sql.append("INSERT INTO console_gateways (id, tenant, name, cred_hash) VALUES ('%s', '%s', 'gw', '%s') ON CONFLICT DO NOTHING;" % (gw, tenant, h))
        lines = []
        for i in range(nev):
            t = t0 + datetime.timedelta(microseconds=g * 1000 + i * 1000000)
            lines.append(json.dumps(eve(tenant, gw, t, i), separators=(',', ':')))
        path = os.path.join(d, '%s.gz' % gw)
        with gzip.open(path, 'wb', compresslevel=1) as f:
            f.write(('\n'.join(lines) + '\n').encode())
        cfg.append('url = "URL/api/ingest"\nheader = "Authorization: Bearer %s"\n'
                   'header = "X-Batch-Id: b-%s"\ndata-binary = "@%s"\noutput = "/dev/null"\n'
                   'write-out = "%%{http_code}\\n"\n' % (cred, gw, path))
    sql.append('COMMIT;')
    open(os.path.join(d, 'creds.sql'), 'w').write('\n'.join(sql) + '\n')
    open(os.path.join(d, 'curl.cfg'), 'w').write('next\n'.join(cfg))


def year(db, ncomp, per_day):
    con = sqlite3.connect(db)
    cur = con.cursor()
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    rnd = random.Random(1)
    cats = ['recon'] * 8 + ['c2', 'web_malware']
    cur.execute('BEGIN')
    for c in range(ncomp):
        tenant = 'c%04d' % c
        cur.execute("INSERT OR IGNORE INTO console_tenants (id, name) VALUES (?, ?)", (tenant, 'Company %d' % c))
        cur.execute("INSERT OR IGNORE INTO console_gateways (id, tenant, name, last_seen) VALUES (?, ?, 'gw', ?)",
                    ('g%04d' % c, tenant, int(today.timestamp() * 1e6)))
        rows, roll, watched = [], {}, []
        for d in range(365):
            day = today - datetime.timedelta(days=364 - d)
            ds = day.strftime('%Y-%m-%d')
            for cat in ('recon', 'c2', 'web_malware'):
                watched.append((tenant, 'g%04d' % c, cat, int(day.timestamp() * 1e6), 100))
            for i in range(per_day):
                t = day + datetime.timedelta(seconds=rnd.randrange(86400))
                cat = cats[rnd.randrange(len(cats))]
                sev = 2 if cat == 'recon' else 1
                act = 'blocked' if cat != 'recon' and i % 2 else 'detected'
                line = json.dumps(eve(tenant, 'g%04d' % c, t, i, cat, sev, act), separators=(',', ':'))
                ts = int(t.timestamp() * 1e6)
                rows.append((ts, ds, tenant, 'g%04d' % c, 'alert', cat, sev, act, '203.0.113.%d' % (i % 250 + 1),
                             40000 + i, '192.168.10.%d' % (i % 200 + 2), 1 + i % 1024, 'TCP',
                             'OMAMORI RECON vertical port scan', 9000001, line,
                             '%s|%d|%d' % (tenant, ts, i)))
                roll[(tenant, 'g%04d' % c, ds, cat)] = roll.get((tenant, 'g%04d' % c, ds, cat), 0) + 1
        cur.executemany('INSERT INTO events (ts_usec, day, tenant, gateway, event_type, category, severity, action,'
                        ' src_ip, src_port, dest_ip, dest_port, proto, signature, signature_id, eve, event_key)'
                        ' VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', rows)
        cur.executemany('INSERT INTO rollup_daily (tenant, gateway, day, category, count) VALUES (?,?,?,?,?)',
                        [(k[0], k[1], k[2], k[3], v) for k, v in roll.items()])
        cur.executemany('INSERT OR IGNORE INTO watched (tenant, gateway, category, hour, packets) VALUES (?,?,?,?,?)', watched)
    cur.execute('COMMIT')
    con.close()


if __name__ == '__main__':
    if sys.argv[1] == 'batches':
        batches(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == 'year':
        year(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit('usage: console-gen.py batches DIR GATEWAYS EVENTS | year DB COMPANIES EVENTS_PER_DAY')
