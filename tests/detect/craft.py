#!/usr/bin/env python3
"""Writes the rule-test captures (Ethernet, IPv4, checksums computed):

  tcp-keywords.pcap  one TCP session 192.168.1.10:40000 -> 203.0.113.5:80,
                     handshake, then client payloads one per segment (the
                     content, pcre, byte_* and offset cases of corpus.rules),
                     a server reply, FIN both ways
  frag.pcap          one UDP datagram 192.168.1.10:5000 -> 203.0.113.5:9999
                     whose payload "....FRAGMENTED-SECRET...." is cut in two
                     IPv4 fragments in the middle of the pattern
  segmented.pcap     a TCP session whose payload "SPLIT-ACROSS-SEGMENTS" is
                     sent as "SPLIT-ACR" + "OSS-SEGMENTS", and "WHOLE-ONE" in
                     one segment
  stream.pcap        TCP sessions (client ports 40010-40019) for matching on
                     the reassembled stream: a pattern in three segments and
                     one byte per segment, flow:no_stream and only_stream, a
                     segment out of order, a retransmission that rewrites
                     delivered bytes, two held segments at the same place
                     (the first one wins), patterns near and beyond the
                     window, and an HTTP session for rules that mix payload
                     content with http.uri (each packet's number in the
                     comments of stream.expect)

usage: craft.py OUTDIR
"""
import os
import struct
import sys

T0 = 1700000000
CLI, SRV = bytes([192, 168, 1, 10]), bytes([203, 0, 113, 5])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, frag=0, mf=False, total=None):
    ln = 20 + len(payload)
    off = (frag // 8) | (0x2000 if mf else 0)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ln, ident, off, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(src, dst, sp, dp, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ph = struct.pack("!4s4sBBH", src, dst, 0, 6, len(h) + len(data))
    c = csum(ph + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp(src, dst, sp, dp, data):
    h = struct.pack("!HHHH", sp, dp, 8 + len(data), 0)
    ph = struct.pack("!4s4sBBH", src, dst, 0, 17, len(h) + len(data))
    c = csum(ph + h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data


def eth(ip):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip


class Cap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.t = 0

    def add(self, frame):
        self.t += 1000
        self.f.write(struct.pack("<IIII", T0 + self.t // 1000000, self.t % 1000000,
                                 len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


class Session:
    """A TCP session: handshake at creation, data both ways, close."""

    def __init__(self, cap, sp=40000, dp=80):
        self.c, self.sp, self.dp = cap, sp, dp
        self.cs, self.ss = 1000, 5000
        self.send(True, 0x02)
        self.ss -= 0
        self.send(False, 0x12)
        self.send(True, 0x10)

    def send(self, client, flags, data=b""):
        if client:
            seg = tcp(CLI, SRV, self.sp, self.dp, self.cs, self.ss, flags, data)
            self.c.add(eth(ipv4(CLI, SRV, 6, seg)))
            self.cs += len(data) + (1 if flags & 0x03 else 0)
        else:
            seg = tcp(SRV, CLI, self.dp, self.sp, self.ss, self.cs, flags, data)
            self.c.add(eth(ipv4(SRV, CLI, 6, seg)))
            self.ss += len(data) + (1 if flags & 0x03 else 0)

    def data(self, client, payload):
        self.send(client, 0x18, payload)
        self.send(not client, 0x10)

    def send_at(self, client, rel, data):
        """A client data segment rel bytes past the next expected one
        (out of order, or back over delivered bytes when rel < 0); the
        sequence number to come is not moved."""
        seg = tcp(CLI, SRV, self.sp, self.dp, (self.cs + rel) & 0xFFFFFFFF, self.ss, 0x18, data)
        self.c.add(eth(ipv4(CLI, SRV, 6, seg)))

    def close(self):
        self.send(True, 0x11)
        self.send(False, 0x11)
        self.send(True, 0x10)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    c = Cap(os.path.join(out, "tcp-keywords.pcap"))
    s = Session(c)
    s.data(True, b"xxABCyyABCzzDEF")             # content chain that needs a retry
    s.data(True, b"GET /index.html?id=123& HTTP/1.0\r\n")  # startswith, relative pcre
    s.data(True, b"\x03xyzEND")                  # byte_jump then within
    s.data(True, b"\x02zzOK")                    # byte_extract as a distance
    s.data(True, b"LEN=\x00\x01\x02")            # byte_test after a content
    s.data(True, b"flowbit-set")                 # flowbits: set (noalert)
    s.data(True, b"flowbit-check")               # flowbits: isset
    s.data(False, b"HTTP/1.0 200 OK\r\n\r\nSERVER-SAYS")  # to_client only
    s.close()
    c.close()

    c = Cap(os.path.join(out, "frag.pcap"))
    data = udp(CLI, SRV, 5000, 9999, b"....FRAGMENTED-SECRET....")
    # the UDP header and 8 payload bytes, then the rest (offset 16)
    c.add(eth(ipv4(CLI, SRV, 17, data[:16], ident=77, frag=0, mf=True)))
    c.add(eth(ipv4(CLI, SRV, 17, data[16:], ident=77, frag=16)))
    c.close()

    c = Cap(os.path.join(out, "segmented.pcap"))
    s = Session(c, sp=40001)
    s.send(True, 0x18, b"SPLIT-ACR")
    s.send(True, 0x18, b"OSS-SEGMENTS")
    s.send(False, 0x10)
    s.data(True, b"WHOLE-ONE")
    s.close()
    c.close()

    c = Cap(os.path.join(out, "stream.pcap"))
    # 1-3 handshake; 4-9 three segments each ACKed; 10-11 FIN, 12 ACK
    s = Session(c, sp=40010)
    for part in (b"THREE-", b"PART-", b"PATTERN"):
        s.data(True, part)
    s.close()
    # 13-15 handshake; 16-25 "EVERY" one byte per segment (no ACKs), 26 ACK
    # (10 bytes: E V E R Y - B Y T E at 16..25)
    s = Session(c, sp=40011)
    for ch in b"EVERY-BYTE":
        s.send(True, 0x18, bytes([ch]))
    s.send(False, 0x10)
    s.close()  # 27-29
    # 30-32 handshake; 33 "PKT-" 34 "ONLY" 35 ACK; 36 "PKT-ONLY" 37 ACK;
    # 38 "STREAM-" 39 "ONLY2" 40 ACK; 41-43 close
    s = Session(c, sp=40012)
    s.send(True, 0x18, b"PKT-")
    s.send(True, 0x18, b"ONLY")
    s.send(False, 0x10)
    s.data(True, b"PKT-ONLY")
    s.send(True, 0x18, b"STREAM-")
    s.send(True, 0x18, b"ONLY2")
    s.send(False, 0x10)
    s.close()
    # 44-46 handshake; 47 "ORDER" sent 7 bytes ahead (held), 48 "OUT-OF-"
    # fills the hole (both delivered now), 49 ACK; 50-52 close
    s = Session(c, sp=40013)
    s.send_at(True, 7, b"ORDER")
    s.send(True, 0x18, b"OUT-OF-")
    s.cs += 5
    s.send(False, 0x10)
    s.close()
    # 53-55 handshake; 56 "RETRANS-GOOD" 57 ACK; 58 the same bytes again
    # rewritten as "RETRANS-EVIL"; 59-61 close
    s = Session(c, sp=40014)
    s.data(True, b"RETRANS-GOOD")
    s.send_at(True, -12, b"RETRANS-EVIL")
    s.close()
    # 62-64 handshake; 65 "FIRST-DATA" held 8 bytes ahead, 66 "LAST--DATA"
    # over the same bytes (held too), 67 "HOLDHOLD" fills the hole, 68 ACK;
    # 69-71 close
    s = Session(c, sp=40015)
    s.send_at(True, 8, b"FIRST-DATA")
    s.send_at(True, 8, b"LAST--DATA")
    s.send(True, 0x18, b"HOLDHOLD")
    s.cs += 10
    s.send(False, 0x10)
    s.close()
    # 72-74 handshake; 75 "NEARSTART" + 500 dots, 76 ACK, 77 "NEAREND" 78 ACK;
    # 79 "FARSTART" + 1100 dots 80 ACK, 81 "FAREND" 82 ACK; 83-85 close
    s = Session(c, sp=40016)
    s.data(True, b"NEARSTART" + b"." * 500)
    s.data(True, b"NEAREND")
    s.data(True, b"FARSTART" + b"." * 1100)
    s.data(True, b"FAREND")
    s.close()
    # 86-88 handshake; 89 request 1 (/mixed, with the payload mark) 90 ACK;
    # 91 request 2 (/other, with the mark) 92 ACK; 93 request 3 (/mixed,
    # without it) 94 ACK; 95 request 4 (/mixed) split, mark in 95, URI done
    # in 96, 97 ACK; 98-100 close
    s = Session(c, sp=40017)
    s.data(True, b"GET /mixed HTTP/1.1\r\nHost: a\r\nX-Tag: MIXED-PAYLOAD\r\n\r\n")
    s.data(True, b"GET /other HTTP/1.1\r\nHost: a\r\nX-Tag: MIXED-PAYLOAD\r\n\r\n")
    s.data(True, b"GET /mixed HTTP/1.1\r\nHost: a\r\nX-Tag: none\r\n\r\n")
    s.send(True, 0x18, b"GET /mixed HTTP/1.1\r\nX-Tag: MIXED-PAY")
    s.send(True, 0x18, b"LOAD\r\nHost: a\r\n\r\n")
    s.send(False, 0x10)
    s.close()
    # 101-103 handshake; 104 1100 dots + "BIGSEG-SPL" (a segment longer than
    # the 1 KiB window, so the window's bytes are the end of this packet),
    # 105 ACK; 106 "IT-PATTERN" 107 ACK; 108-110 close
    s = Session(c, sp=40018)
    s.data(True, b"." * 1100 + b"BIGSEG-SPL")
    s.data(True, b"IT-PATTERN")
    s.close()
    c.close()


if __name__ == "__main__":
    main()
