#!/usr/bin/env python3
"""Tests of scripts/compare's matching and classification on hand-written EVE
records (no Suricata needed): flows pair up by key whatever the address
spelling or direction, each documented difference is used only when its
condition holds, and the docs/net.md table has an entry for every id the
classifiers can return.

usage: test_compare.py [SOURCE_ROOT]
"""

import importlib.machinery
import os
import re
import sys
import unittest

ROOT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
cmp = importlib.machinery.SourceFileLoader(
    "compare", os.path.join(ROOT, "scripts", "compare")).load_module()

T0 = "2026-01-01T00:00:00.000000+0000"


def ts(sec):
    return f"2026-01-01T00:{sec // 60:02d}:{sec % 60:02d}.000000+0000"


def flow(tool, src, sport, dst, dport, proto="TCP", pkts=(1, 1), nbytes=(60, 60), start=0,
         end=1, state="established", tcp_state="established", reason="shutdown", flags="1b",
         vlan=None, **extra):
    ev = {"event_type": "flow", "src_ip": src, "dest_ip": dst, "proto": proto,
          "flow": {"pkts_toserver": pkts[0], "pkts_toclient": pkts[1],
                   "bytes_toserver": nbytes[0], "bytes_toclient": nbytes[1],
                   "start": ts(start), "end": ts(end), "state": state, "reason": reason}}
    if sport is not None:
        ev["src_port"], ev["dest_port"] = sport, dport
    if vlan is not None:
        ev["vlan"] = vlan
    if proto == "TCP":
        ev["tcp"] = {"tcp_flags": flags}
        if tcp_state is not None:
            ev["tcp"]["state"] = tcp_state
    ev["flow"].update(extra)
    return cmp.Flow(tool, ev)


def anomaly(name, cnt, src="192.0.2.1", dst="192.0.2.2", proto=None, t=0):
    ev = {"event_type": "anomaly", "timestamp": ts(t), "anomaly": {"event": name},
          "pcap_cnt": cnt}
    if proto:
        ev.update(src_ip=src, dest_ip=dst, proto=proto)
    return ev


def run(om, su, om_anoms=(), su_anoms=(), stats=None):
    return cmp.compare_capture("t.pcap", list(om), list(om_anoms), list(su), list(su_anoms), stats)


def reasons(diffs):
    return sorted(((d.kind, d.reason_id) for d in diffs), key=lambda x: (x[0], x[1] or ""))


class Matching(unittest.TestCase):
    def test_same_flow_any_spelling_and_order(self):
        # Suricata writes IPv6 addresses in full
        o = flow("omamori", "2001:db8::1", 1000, "2001:db8::2", 80)
        s = flow("suricata", "2001:0db8:0000:0000:0000:0000:0000:0001", 1000,
                 "2001:0db8:0000:0000:0000:0000:0000:0002", 80)
        row, diffs = run([o], [s])
        self.assertEqual((row["matched"], row["only_om"], row["only_su"]), (1, 0, 0))
        self.assertEqual(diffs, [])
        self.assertEqual((row["counters_eq"], row["state_eq"]), (1, 1))

    def test_swapped_direction_is_reported_and_counters_aligned(self):
        o = flow("omamori", "192.0.2.2", 80, "192.0.2.1", 1000, pkts=(3, 5), nbytes=(300, 500))
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(5, 3), nbytes=(500, 300))
        row, diffs = run([o], [s])
        self.assertEqual(reasons(diffs), [("direction", None)])
        self.assertEqual(row["counters_eq"], 0)

    def test_different_ports_do_not_match(self):
        row, diffs = run([flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80)],
                         [flow("suricata", "192.0.2.1", 1001, "192.0.2.2", 80)])
        self.assertEqual((row["matched"], row["only_om"], row["only_su"]), (0, 1, 1))
        self.assertEqual(reasons(diffs), [("only-omamori", None), ("only-suricata", None)])

    def test_vlan_keyed_on_outer_tag_only_is_unexplained(self):
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", vlan=100)
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", vlan=[100, 200])
        row, diffs = run([o], [s])
        self.assertEqual(row["matched"], 1)
        self.assertEqual(reasons(diffs), [("key", None)])

    def test_port_reuse_pairs_by_lifetime(self):
        om = [flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, start=0, end=5),
              flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, start=100, end=105,
                   pkts=(2, 2))]
        su = [flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, start=100, end=105,
                   pkts=(2, 2)),
              flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, start=0, end=5)]
        row, diffs = run(om, su)
        self.assertEqual((row["matched"], row["counters_eq"]), (2, 2))
        self.assertEqual(diffs, [])


class Classification(unittest.TestCase):
    def test_reset_is_closed_only_with_rst_seen(self):
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="reset", state="closed")
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="closed",
                 state="closed", flags="16")  # 0x16: SYN, RST, ACK
        self.assertEqual(reasons(run([o], [s])[1]), [("state", "tcp-state-names")])
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="closed",
                 state="closed", flags="13")  # 0x13: SYN, FIN, ACK: no RST
        self.assertEqual(reasons(run([o], [s])[1]), [("state", None)])

    def test_fin_state_names(self):
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="fin_wait1")
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="close_wait",
                 flags="1b")
        self.assertEqual(reasons(run([o], [s])[1]), [("state", "tcp-state-names")])
        # no FIN seen: unexplained
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="close_wait",
                 flags="1a")
        self.assertEqual(reasons(run([o], [s])[1]), [("state", None)])
        # not a pair of the table
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, tcp_state="time_wait",
                 flags="1b")
        self.assertEqual(reasons(run([o], [s])[1]), [("state", None)])

    def test_suricata_joining_a_packet_after_the_timeout(self):
        # omamori: a DNS exchange at 1 s, the port reused at 62 s (past the
        # 60 s timeout): two flows. Suricata: one flow with both.
        om = [flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", start=1, end=1,
                   reason="timeout"),
              flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", start=62,
                   end=62)]
        su = [flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", start=1,
                   end=62, pkts=(2, 2), nbytes=(120, 120))]
        row, diffs = run(om, su)
        self.assertEqual(sorted({r for _, r in reasons(diffs)}), ["offline-timeouts"])
        # reused at 30 s, before the timeout: omamori splitting it is not
        # explained
        om[0].reason, om[1].start, om[1].end = "timeout", 30 * 1000000 + cmp.ts_us(T0), \
            30 * 1000000 + cmp.ts_us(T0)
        su[0].end = om[1].end
        row, diffs = run(om, su)
        self.assertIn(None, {r for _, r in reasons(diffs)})

    def test_suricata_shutdown_after_timeout_compared_as_timeout(self):
        # a UDP flow ending at 1 s in a capture that goes on to 100 s: its
        # 60 s timeout passed, so Suricata's "shutdown" counts as a timeout
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", end=1,
                 reason="timeout")
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", end=1)
        last = flow("omamori", "192.0.2.9", 1, "192.0.2.8", 2, proto="UDP", start=100, end=100)
        last_s = flow("suricata", "192.0.2.9", 1, "192.0.2.8", 2, proto="UDP", start=100,
                      end=100)
        row, diffs = run([o, last], [s, last_s])
        self.assertEqual(diffs, [])
        self.assertEqual(row["su_timeout_norm"], 1)

    def test_omamori_timeout_without_the_time_having_passed_is_unexplained(self):
        # the capture ends 30 s after the flow: a UDP timeout (60 s) cannot
        # have passed
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", end=1,
                 reason="timeout")
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", end=1)
        last = flow("omamori", "192.0.2.9", 1, "192.0.2.8", 2, proto="UDP", start=31, end=31)
        last_s = flow("suricata", "192.0.2.9", 1, "192.0.2.8", 2, proto="UDP", start=31, end=31)
        row, diffs = run([o, last], [s, last_s])
        self.assertEqual(reasons(diffs), [("state", None)])
        self.assertEqual(row["su_timeout_norm"], 0)

    def test_tick_granularity_only_within_the_last_second(self):
        # UDP flow ending at 1.5 s; the capture ends at 61.7 s: 60 s passed
        # by the last packet but not by the last whole second (61 s)
        def f(tool, start, end, reason="shutdown", src="192.0.2.1"):
            ev = flow(tool, src, 1000, "192.0.2.2", 53, proto="UDP", reason=reason)
            ev.start, ev.end = start, end
            return ev
        om = [f("omamori", 1000000, 1500000), f("omamori", 61700000, 61700000, src="192.0.2.9")]
        su = [f("suricata", 1000000, 1500000), f("suricata", 61700000, 61700000, src="192.0.2.9")]
        self.assertEqual(reasons(run(om, su)[1]), [("state", "tick-granularity")])
        # an established TCP flow (300 s) that Suricata times out after 40 s
        # (it took the flow as new): not explained by the tick
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, end=1)
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, end=1, state="new",
                 reason="timeout")
        lo = flow("omamori", "192.0.2.9", 1, "192.0.2.8", 2, proto="UDP", start=41, end=41)
        ls = flow("suricata", "192.0.2.9", 1, "192.0.2.8", 2, proto="UDP", start=41, end=41)
        self.assertIn(("state", None), reasons(run([o, lo], [s, ls])[1]))
        self.assertNotIn(("state", "tick-granularity"), reasons(run([o, lo], [s, ls])[1]))

    def test_frag_bytes_needs_reassembly_and_a_link_header_per_packet(self):
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", pkts=(1, 0),
                 nbytes=(60, 0))
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", pkts=(1, 0),
                 nbytes=(74, 0))
        stats = {"defrag": {"reassembled": 1}}
        self.assertEqual(reasons(run([o], [s], stats=stats)[1]), [("bytes", "frag-bytes")])
        # no datagram was reassembled: unexplained
        self.assertEqual(reasons(run([o], [s], stats={"defrag": {"reassembled": 0}})[1]),
                         [("bytes", None)])
        # 15 bytes more is not a link header
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 53, proto="UDP", pkts=(1, 0),
                 nbytes=(75, 0))
        self.assertEqual(reasons(run([o], [s], stats=stats)[1]), [("bytes", None)])

    def test_midstream_new_only_for_unanswered_midstream(self):
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(1, 0), state="new",
                 midstream=True)
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(1, 0),
                 state="established")
        self.assertEqual(reasons(run([o], [s])[1]), [("state", "midstream-new")])
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(1, 0), state="new",
                 midstream=False)
        self.assertEqual(reasons(run([o], [s])[1]), [("state", None)])

    def test_anomaly_names_compared_per_packet(self):
        om = [anomaly("ipv4.trunc_pkt", 3)]
        su = [anomaly("decoder.ipv4.pkt_too_small", 3)]
        row, diffs = run([], [], om, su)
        self.assertEqual(reasons(diffs), [("anomaly", None)])
        self.assertIn("only omamori raises ipv4.trunc_pkt", diffs[0].what)
        self.assertIn("only suricata raises ipv4.pkt_too_small", diffs[0].what)
        # the same event on the same packet agrees (Suricata's decoder. prefix
        # dropped)
        row, diffs = run([], [], [anomaly("ipv4.trunc_pkt", 3)],
                         [anomaly("decoder.ipv4.trunc_pkt", 3)])
        self.assertEqual(diffs, [])
        self.assertEqual(row["anom_eq"], 1)
        # on another packet it does not
        row, diffs = run([], [], [anomaly("ipv4.trunc_pkt", 3)],
                         [anomaly("decoder.ipv4.trunc_pkt", 4)])
        self.assertEqual(len(diffs), 2)

    def test_ack_events_only_when_omamori_is_silent(self):
        su = [anomaly("stream.pkt_spurious_retransmission", 9),
              anomaly("stream.est_pkt_before_last_ack", 9)]
        self.assertEqual(reasons(run([], [], [], su)[1]), [("anomaly", "tcp-ack-events")])
        self.assertEqual(reasons(run([], [], [anomaly("stream.overlap_diff", 9)], su)[1]),
                         [("anomaly", None)])

    def test_legal_but_odd_only_when_omamori_is_silent(self):
        row, diffs = run([], [], [], [anomaly("decoder.ipv6.zero_len_padn", 1)])
        self.assertEqual(reasons(diffs), [("anomaly", "legal-but-odd")])
        row, diffs = run([], [], [anomaly("ipv6.trunc_pkt", 1)],
                         [anomaly("decoder.ipv6.zero_len_padn", 1)])
        self.assertEqual(reasons(diffs), [("anomaly", None)])


class Icmp(unittest.TestCase):
    def test_two_pings_one_suricata_flow(self):
        om = [flow("omamori", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", pkts=(1, 1),
                   start=0, end=1),
              flow("omamori", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", pkts=(1, 1),
                   start=0, end=1)]
        su = [flow("suricata", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", pkts=(2, 2),
                   start=0, end=1)]
        row, diffs = run(om, su)
        self.assertEqual(sorted({r for _, r in reasons(diffs)}), ["icmp-keying"])
        self.assertEqual(row["only_om"], 1)

    def test_two_pings_end_differently(self):
        # two pings 20 s apart: omamori's first flow times out (30 s) before
        # the capture ends, Suricata's one flow does not
        om = [flow("omamori", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", start=0,
                   end=1, reason="timeout"),
              flow("omamori", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", start=21,
                   end=22)]
        su = [flow("suricata", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", pkts=(2, 2),
                   nbytes=(120, 120), start=0, end=22)]
        row, diffs = run(om, su)
        self.assertEqual(sorted({r for _, r in reasons(diffs)}), ["icmp-keying"])
        self.assertIn(("state", "icmp-keying"), reasons(diffs))

    def test_icmp_error_counted_in_the_quoted_flow(self):
        # a DNS query answered by port unreachable: omamori gives the error a
        # flow of its own, Suricata counts it in the UDP flow
        om = [flow("omamori", "192.0.2.1", 5000, "192.0.2.2", 53, proto="UDP", pkts=(1, 0),
                   nbytes=(46, 0), start=0, end=0),
              flow("omamori", "192.0.2.2", None, "192.0.2.1", None, proto="ICMP", pkts=(1, 0),
                   nbytes=(70, 0), start=1, end=1)]
        su = [flow("suricata", "192.0.2.1", 5000, "192.0.2.2", 53, proto="UDP", pkts=(1, 1),
                   nbytes=(46, 70), start=0, end=1)]
        self.assertEqual(sorted({r for _, r in reasons(run(om, su)[1])}), ["icmp-keying"])
        # 10 bytes more than the error carried: unexplained
        su[0].bytes = (46, 80)
        self.assertIn(("bytes", None), reasons(run(om, su)[1]))

    def test_errors_quoting_two_flows_share_one_omamori_flow(self):
        # two DNS queries, each answered by port unreachable: omamori keys both
        # errors on one ICMP flow, Suricata counts each in its UDP flow
        om = [flow("omamori", "10.0.0.1", 5000, "10.0.0.2", 53, proto="UDP", pkts=(1, 0),
                   nbytes=(34, 0), start=0, end=0),
              flow("omamori", "10.0.0.1", 5001, "10.0.0.2", 53, proto="UDP", pkts=(1, 0),
                   nbytes=(34, 0), start=2, end=2),
              flow("omamori", "10.0.0.2", None, "10.0.0.1", None, proto="ICMP", pkts=(2, 0),
                   nbytes=(124, 0), start=1, end=3)]
        su = [flow("suricata", "10.0.0.1", 5000, "10.0.0.2", 53, proto="UDP", pkts=(1, 1),
                   nbytes=(34, 62), start=0, end=1),
              flow("suricata", "10.0.0.1", 5001, "10.0.0.2", 53, proto="UDP", pkts=(1, 1),
                   nbytes=(34, 62), start=2, end=3)]
        self.assertEqual(sorted({r for _, r in reasons(run(om, su)[1])}), ["icmp-keying"])
        # the ICMP flow holds one error only: Suricata's second extra packet
        # is unexplained
        om[2] = flow("omamori", "10.0.0.2", None, "10.0.0.1", None, proto="ICMP", pkts=(1, 0),
                     nbytes=(62, 0), start=1, end=1)
        self.assertIn(None, {r for _, r in reasons(run(om, su)[1])})

    def test_suricata_counting_more_icmp_is_unexplained(self):
        om = [flow("omamori", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", pkts=(1, 1))]
        su = [flow("suricata", "192.0.2.1", None, "192.0.2.2", None, proto="ICMP", pkts=(3, 1))]
        self.assertEqual(reasons(run(om, su)[1]), [("packets", None)])


class Tunnels(unittest.TestCase):
    GRE = {"src_ip": "198.51.100.1", "src_port": 0, "dest_ip": "198.51.100.2", "dest_port": 0,
           "proto": "GRE", "depth": 1}

    def inner(self, tool, sport=5001, pkts=(1, 1), nbytes=(33, 34), start=0, end=1, tunnel=None):
        f = flow(tool, "10.9.0.1", sport, "10.9.0.2", 53, proto="UDP", pkts=pkts, nbytes=nbytes,
                 start=start, end=end)
        f.tunnel = tunnel
        return f

    def test_tunnel_flow_only_for_a_tunnel_pair(self):
        outer = flow("omamori", "198.51.100.1", None, "198.51.100.2", None, proto="47",
                     pkts=(1, 1), nbytes=(75, 76))
        om = [outer, self.inner("omamori", tunnel=self.GRE)]
        su = [self.inner("suricata")]
        self.assertEqual(reasons(run(om, su)[1]), [("only-omamori", "tunnel-flow")])
        # no inner flow of omamori has this pair as its GRE tunnel
        self.assertEqual(reasons(run([outer, self.inner("omamori")], su)[1]),
                         [("only-omamori", None)])
        # IPv6 in IPv4: Suricata writes that flow, so omamori's alone is not this
        v6 = flow("omamori", "198.51.100.1", None, "198.51.100.2", None, proto="41")
        t = dict(self.GRE, proto="IPv6")
        om = [v6, self.inner("omamori", tunnel=t)]
        self.assertEqual(reasons(run(om, su)[1]), [("only-omamori", None)])

    def test_suricata_proto_names_and_one_way_counting(self):
        o = flow("omamori", "198.51.100.1", None, "198.51.100.2", None, proto="41", pkts=(1, 1),
                 nbytes=(87, 88), state="established")
        s = flow("suricata", "198.51.100.1", None, "198.51.100.2", None, proto="IPv6",
                 pkts=(2, 0), nbytes=(175, 0), state="new")
        row, diffs = run([o], [s])
        self.assertEqual(row["matched"], 1)
        self.assertEqual(sorted({r for _, r in reasons(diffs)}), ["other-proto-direction"])
        self.assertEqual(len(diffs), 3)  # packets, bytes, flow state
        # one packet missing in Suricata: not only the direction
        s = flow("suricata", "198.51.100.1", None, "198.51.100.2", None, proto="IPv6",
                 pkts=(1, 0), nbytes=(87, 0), state="new")
        self.assertIn(None, {r for _, r in reasons(run([o], [s])[1])})

    def test_gre_keys_split_one_suricata_flow(self):
        om = [self.inner("omamori", start=0, end=1, tunnel=self.GRE),
              self.inner("omamori", start=2, end=3, tunnel=self.GRE)]
        su = [self.inner("suricata", pkts=(2, 2), nbytes=(66, 68), start=0, end=3)]
        self.assertEqual(sorted({r for _, r in reasons(run(om, su)[1])}), ["tunnel-keying"])
        # Suricata holds a packet more than both together
        su = [self.inner("suricata", pkts=(3, 2), nbytes=(99, 68), start=0, end=3)]
        self.assertIn(None, {r for _, r in reasons(run(om, su)[1])})
        # outside a tunnel omamori does not split
        om = [self.inner("omamori", start=0, end=1), self.inner("omamori", start=2, end=3)]
        su = [self.inner("suricata", pkts=(2, 2), nbytes=(66, 68), start=0, end=3)]
        self.assertIn(None, {r for _, r in reasons(run(om, su)[1])})

    def test_inner_link_header_bytes(self):
        o = self.inner("omamori", tunnel=self.GRE)
        s = self.inner("suricata", nbytes=(47, 48))  # an inner Ethernet header each
        self.assertEqual(reasons(run([o], [s])[1]), [("bytes", "tunnel-inner-bytes")])
        s = self.inner("suricata", nbytes=(37, 38))  # PPP (PPTP)
        self.assertEqual(reasons(run([o], [s])[1]), [("bytes", "tunnel-inner-bytes")])
        # 15 bytes is no header; 14 one way and 4 the other is not one tunnel
        for nb in ((48, 49), (47, 38)):
            s = self.inner("suricata", nbytes=nb)
            self.assertEqual(reasons(run([o], [s])[1]), [("bytes", None)])
        # not in a tunnel
        s = self.inner("suricata", nbytes=(47, 48))
        self.assertEqual(reasons(run([self.inner("omamori")], [s])[1]), [("bytes", None)])

    def test_ipip_over_ipv4_only_omamori(self):
        t = dict(self.GRE, proto="IPv4")
        self.assertEqual(reasons(run([self.inner("omamori", tunnel=t)], [])[1]),
                         [("only-omamori", "tunnel-kinds")])
        # IPv4 in IPv6 Suricata decodes
        t6 = dict(t, src_ip="2001:db8::1", dest_ip="2001:db8::2")
        self.assertEqual(reasons(run([self.inner("omamori", tunnel=t6)], [])[1]),
                         [("only-omamori", None)])
        # inside GRE only when the capture had ERSPAN
        g = self.inner("omamori", tunnel=self.GRE)
        self.assertEqual(reasons(run([g], [], stats={"decoder": {"erspan": 1}})[1]),
                         [("only-omamori", "tunnel-kinds")])
        self.assertEqual(reasons(run([g], [], stats={"decoder": {"erspan": 0}})[1]),
                         [("only-omamori", None)])

    def test_nested_udp_tunnel_flow(self):
        s = flow("suricata", "172.16.0.1", 50000, "172.16.0.2", 4789, proto="UDP", pkts=(1, 0),
                 nbytes=(83, 0), start=0, end=0)
        o = self.inner("omamori", pkts=(1, 0), nbytes=(33, 0), start=0, end=0,
                       tunnel=dict(self.GRE, depth=2))
        su_inner = self.inner("suricata", pkts=(1, 0), nbytes=(33, 0), start=0, end=0)
        self.assertEqual(reasons(run([o], [s, su_inner])[1]),
                         [("only-suricata", "nested-tunnel-flow")])
        o.tunnel = self.GRE  # depth 1: omamori has the VXLAN flow then
        self.assertEqual(reasons(run([o], [s, su_inner])[1]), [("only-suricata", None)])

    def test_inner_decode_event_with_a_tunnel(self):
        ev = anomaly("ipv4.pkt_too_small", 3, src="198.51.100.7", dst="198.51.100.8",
                     proto="47")
        ev["tunnel"] = dict(self.GRE, src_ip="198.51.100.7", dest_ip="198.51.100.8")
        self.assertEqual(reasons(run([], [], [ev], [])[1]), [("anomaly", "tunnel-inner-invalid")])
        plain = anomaly("ipv4.pkt_too_small", 3, src="198.51.100.7", dst="198.51.100.8",
                        proto="47")
        self.assertEqual(reasons(run([], [], [plain], [])[1]), [("anomaly", None)])
        # Suricata raised something else on it: not this
        self.assertEqual(reasons(run([], [], [ev], [anomaly("decoder.gre.wrong_version", 3)])[1]),
                         [("anomaly", None)])


class TcpAndPpp(unittest.TestCase):
    def test_no_session_probe(self):
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(1, 0), state="new",
                 tcp_state="none", flags="03")  # SYN+FIN
        s = flow("suricata", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(1, 0), state="new",
                 tcp_state=None, flags="00")
        self.assertEqual(reasons(run([o], [s])[1]), [("state", "tcp-no-session")])
        # a lone SYN starts a session in omamori: state none is not this
        o = flow("omamori", "192.0.2.1", 1000, "192.0.2.2", 80, pkts=(1, 0), state="new",
                 tcp_state="none", flags="02")
        self.assertEqual(reasons(run([o], [s])[1]), [("state", None)])
        su = [anomaly("stream.fin_but_no_session", 4)]
        self.assertEqual(reasons(run([], [], [], su)[1]), [("anomaly", "tcp-no-session")])
        self.assertEqual(reasons(run([], [], [anomaly("stream.fin_syn", 4)], su)[1]),
                         [("anomaly", None)])

    def test_stream_checks_only_omamori(self):
        self.assertEqual(reasons(run([], [], [anomaly("stream.rst_invalid", 5)], [])[1]),
                         [("anomaly", "stream-checks")])
        self.assertEqual(reasons(run([], [], [anomaly("stream.rst_invalid", 5)],
                                     [anomaly("stream.rst_invalid_ack", 5)])[1]),
                         [("anomaly", None)])

    def test_ppp_other_protocol(self):
        su = [anomaly("decoder.ppp.unsup_proto", 3)]
        self.assertEqual(reasons(run([], [], [], su, stats={"decoder": {"other": 1}})[1]),
                         [("anomaly", "ppp-other-protocols")])
        self.assertEqual(reasons(run([], [], [], su, stats={"decoder": {"other": 0}})[1]),
                         [("anomaly", None)])


class Time(unittest.TestCase):
    def test_timestamps_across_a_month_end(self):
        a = cmp.ts_us("2024-04-30T23:59:59.500000+0000")
        b = cmp.ts_us("2024-05-01T00:00:00.250000+0000")
        self.assertEqual(b - a, 750000)


class Documentation(unittest.TestCase):
    def test_every_id_is_documented(self):
        src = open(os.path.join(ROOT, "scripts", "compare"), encoding="utf-8").read()
        ids = set(re.findall(r'return "([a-z0-9-]+)"', src)) | {"offline-timeouts"}
        documented = cmp.load_reasons(os.path.join(ROOT, "docs", "net.md"))
        self.assertTrue(ids, "no ids found in scripts/compare")
        self.assertEqual(sorted(ids - set(documented)), [])


if __name__ == "__main__":
    unittest.main(verbosity=1)
