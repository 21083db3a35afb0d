#!/usr/bin/env python3
# check-tcp-seq.py: sanity check of a capture's TCP sequence numbers, from
# tcpdump's text output (relative sequence numbers):
#   tcpdump -r FILE -nn tcp | python3 bench/check-tcp-seq.py
# For every direction of a connection whose SYN is in the capture, the data
# ranges must cover the stream from byte 1 without a gap, a FIN must sit at
# the end of the data, and the peer must never acknowledge bytes that were not
# sent. Also counts retransmissions (a range already covered) and reordered
# segments (starting before data already seen, not a copy). Exit status 1 if
# any check fails.
import re, sys, collections
rx = re.compile(r'^\S+ IP6? (\S+) > (\S+): Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?')
ranges = collections.defaultdict(list); fin = {}; maxack = collections.defaultdict(int); syn = set(); n = 0
dups = 0; ooo = 0; last_end = {}
for line in sys.stdin:
    m = rx.match(line)
    if not m: continue
    src, dst, fl, s, e, a = m.groups(); dst = dst.rstrip(':')
    key = (src, dst); n += 1
    if 'S' in fl: syn.add(key); continue
    if s and e:
        s, e = int(s), int(e)
        if key in last_end:
            if s < last_end[key]:
                if any(r[0] <= s and e <= r[1] for r in ranges[key][-80:]): dups += 1
                else: ooo += 1
        last_end[key] = max(last_end.get(key, 0), e)
        ranges[key].append((s, e))
    if 'F' in fl: fin[key] = int(s)
    if a: maxack[key] = max(maxack[key], int(a))
gaps = 0; finbad = 0; ackbad = 0; checked = 0
for key, rs in ranges.items():
    if (key[1], key[0]) not in syn and key not in syn: continue
    checked += 1
    rs.sort(); end = 1
    for s, e in rs:
        if s > end: gaps += 1; break
        end = max(end, e)
    if key in fin and fin[key] != end: finbad += 1
    # the peer must not ack beyond what was sent (+1 for FIN)
    if maxack[(key[1], key[0])] > end + (1 if key in fin else 0): ackbad += 1
print(f"packets {n}, directions checked {checked}, gaps {gaps}, fin mismatch {finbad}, ack beyond data {ackbad}, retransmissions {dups}, reordered {ooo}")
sys.exit(1 if gaps or finbad or ackbad else 0)
