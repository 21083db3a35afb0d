#!/usr/bin/env python3
"""Tests of scripts/compare-app's pairing and field comparison on hand-written
EVE records (no Suricata needed): records pair per flow whichever side is
written as src, DNS records pair by id and name whatever their order, files
by sha256, and each field counts as equal, different or written by one side.

usage: test_compare_app.py [SOURCE_ROOT]
"""

import importlib.machinery
import os
import sys
import unittest

ROOT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
ca = importlib.machinery.SourceFileLoader(
    "compare_app", os.path.join(ROOT, "scripts", "compare-app")).load_module()


def rec(t, obj, src="192.0.2.1", sport=40000, dst="192.0.2.2", dport=53, proto="UDP", **extra):
    ev = {"event_type": t, "src_ip": src, "src_port": sport, "dest_ip": dst,
          "dest_port": dport, "proto": proto, t: obj}
    ev.update(extra)
    return ev


class Pairing(unittest.TestCase):
    def test_flow_key_ignores_direction_and_spelling(self):
        a = rec("fileinfo", {}, src="2001:db8::1", sport=80, dst="2001:db8::2", dport=40000,
                proto="TCP")
        b = rec("fileinfo", {}, src="2001:0db8::2", sport=40000, dst="2001:db8:0::1", dport=80,
                proto="tcp")
        self.assertEqual(ca.flow_key(a), ca.flow_key(b))
        c = rec("fileinfo", {}, src="2001:db8::1", sport=81, dst="2001:db8::2", dport=40000)
        self.assertNotEqual(ca.flow_key(a), ca.flow_key(c))

    def test_dns_pairs_by_id_and_name(self):
        om = [rec("dns", {"type": "query", "id": 2, "rrname": "b.example", "rrtype": "A"}),
              rec("dns", {"type": "query", "id": 1, "rrname": "a.example", "rrtype": "A"})]
        su = [rec("dns", {"type": "query", "id": 1, "rrname": "A.example", "rrtype": "A"}),
              rec("dns", {"type": "query", "id": 2, "rrname": "b.example", "rrtype": "A"}),
              rec("dns", {"type": "query", "id": 3, "rrname": "c.example", "rrtype": "A"})]
        pairs, only_om, only_su = ca.pair(om, su, "dns")
        self.assertEqual(len(pairs), 2)
        for a, b in pairs:
            self.assertEqual(a["dns"]["id"], b["dns"]["id"])
        self.assertEqual(only_om, [])
        self.assertEqual([e["dns"]["id"] for e in only_su], [3])

    def test_files_pair_by_sha256(self):
        om = [rec("fileinfo", {"sha256": "bb", "filename": "x"}),
              rec("fileinfo", {"sha256": "aa", "filename": "y"})]
        su = [rec("fileinfo", {"sha256": "aa", "filename": "y"}),
              rec("fileinfo", {"sha256": "bb", "filename": "x"})]
        pairs, _, _ = ca.pair(om, su, "fileinfo")
        self.assertEqual(sorted(a["fileinfo"]["filename"] + b["fileinfo"]["filename"]
                                for a, b in pairs), ["xx", "yy"])

    def test_http_pairs_in_order(self):
        om = [rec("http", {"url": "/1"}, dport=80, proto="TCP"),
              rec("http", {"url": "/2"}, dport=80, proto="TCP")]
        su = [rec("http", {"url": "/1"}, dport=80, proto="TCP")]
        pairs, only_om, only_su = ca.pair(om, su, "http")
        self.assertEqual([(a["http"]["url"], b["http"]["url"]) for a, b in pairs], [("/1", "/1")])
        self.assertEqual([e["http"]["url"] for e in only_om], ["/2"])
        self.assertEqual(only_su, [])


class Fields(unittest.TestCase):
    def test_flatten(self):
        f = ca.flatten({"a": 1, "b": {"c": [1, 2]}, "d": [{"e": 1}, {"e": 2}], "g": []})
        self.assertEqual(f, {"a": 1, "b.c": [1, 2], "d[0].e": 1, "d[1].e": 2, "g": []})

    def test_counts(self):
        t = ca.Table()
        a = rec("tls", {"sni": "x", "version": "TLS 1.2", "ja4": "t12"})
        b = rec("tls", {"sni": "x", "version": "TLSv1.2", "serial": "01"})
        t.add_pair("tls", "cap", a, b, 3)
        self.assertEqual(t.same[("tls", "sni")], 1)
        self.assertEqual(t.diff[("tls", "version")], 1)
        self.assertEqual(t.only_om[("tls", "ja4")], 1)
        self.assertEqual(t.only_su[("tls", "serial")], 1)
        self.assertEqual(t.examples[("tls", "version")], [("cap", None, "TLS 1.2", "TLSv1.2")])

    def test_fileinfo_compares_transaction_members(self):
        t = ca.Table()
        a = rec("fileinfo", {"size": 3}, http={"url": "/a"})
        b = rec("fileinfo", {"size": 3}, http={"url": "/b"})
        t.add_pair("fileinfo", "cap", a, b, 3)
        self.assertEqual(t.same[("fileinfo", "size")], 1)
        self.assertEqual(t.diff[("fileinfo", "<http>.url")], 1)


if __name__ == "__main__":
    unittest.main()
