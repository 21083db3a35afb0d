#!/usr/bin/env python3
"""Synthetic threat-intelligence lists for the benchmarks (bench/intel,
bench/guards-throughput): TOTAL indicators, 40 % addresses (IPv4 hosts,
IPv4 /24 networks, IPv6 hosts), 30 % domains, 10 % URLs, 10 % SHA-256, 5 %
MD5, 5 % JA3, written to DIR/list.txt and DIR/ja3.txt (the JA3 hashes apart:
a plain list of MD5 values is read as file hashes). DIR/queries gets
lookups spread over the whole list (names under listed domains, listed
addresses and URLs) and values that are not listed.
Usage: intel-gen.py TOTAL DIR"""
import hashlib
import sys

total, tmp = int(sys.argv[1]), sys.argv[2]
n_ip, n_dom, n_url, n_sha = total * 40 // 100, total * 30 // 100, total // 10, total // 10
n_md5 = total * 5 // 100
n_ja3 = total - n_ip - n_dom - n_url - n_sha - n_md5
Q = 20000  # queries of each type and kind, hits spread over the whole list
q = open(tmp + "/queries", "w")
def every(n):
    return max(1, n // Q)
with open(tmp + "/list.txt", "w") as w:
    for i in range(n_ip):
        k, j = i % 10, i // 10
        if k < 7:  # IPv4 hosts: 10.0.0.0/8 by j*7+k
            a = j * 7 + k
            v = f"10.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
            w.write(v + "\n")
            if i % every(n_ip) == 0:
                q.write(f"ip hit {v}\n")
        elif k < 8:  # IPv4 /24 networks in 100.64.0.0/10 and up
            v = f"{100 + (j >> 14)}.{64 + ((j >> 8) & 63)}.{j & 255}"
            w.write(v + ".0/24\n")
            if j % every(n_ip // 10) == 0:
                q.write(f"ip hit {v}.77\n")
        else:  # IPv6 hosts
            a = j * 2 + (k - 8)
            v = f"2001:db8:{(a >> 16) & 0xffff:x}:{a & 0xffff:x}::1"
            w.write(v + "\n")
            if j % every(n_ip // 5) == 0:
                q.write(f"ip hit {v}\n")
    for i in range(n_dom):
        w.write(f"d{i}.c2-{i % 1000}.example\n")
        if i % every(n_dom) == 0:
            q.write(f"domain hit www.d{i}.c2-{i % 1000}.example\n")
    for i in range(n_url):
        w.write(f"http://u{i % 5000}.dl.example/p/{i}/setup.exe\n")
        if i % every(n_url) == 0:
            q.write(f"url hit u{i % 5000}.dl.example/p/{i}/setup.exe\n")
    for i in range(n_sha):
        h = hashlib.sha256(b"sha%d" % i).hexdigest()
        w.write(h + "\n")
        if i % every(n_sha) == 0:
            q.write(f"sha256 hit {h}\n")
    for i in range(n_md5):
        h = hashlib.md5(b"md5%d" % i).hexdigest()
        w.write(h + "\n")
        if i % every(n_md5) == 0:
            q.write(f"md5 hit {h}\n")
with open(tmp + "/ja3.txt", "w") as w:
    for i in range(n_ja3):
        h = hashlib.md5(b"ja3%d" % i).hexdigest()
        w.write(h + "\n")
        if i % every(n_ja3) == 0:
            q.write(f"ja3 hit {h}\n")
for i in range(Q):
    q.write(f"ip miss 192.0.{(i >> 8) & 255}.{i & 255}\n")
    q.write(f"domain miss www.x{i}.nothere.test\n")
    q.write(f"url miss u{i}.dl.example/p/none/{i}.exe\n")
    q.write(f"sha256 miss {hashlib.sha256(b'nope%d' % i).hexdigest()}\n")
    q.write(f"md5 miss {hashlib.md5(b'nope%d' % i).hexdigest()}\n")
    q.write(f"ja3 miss {hashlib.md5(b'nope%d' % i).hexdigest()}\n")
