#!/usr/bin/env python3
"""webfilter-craft.py: writes the web filter's crafted test captures (with
the frame helpers of intel-craft.py).

usage: webfilter-craft.py OUTDIR
       webfilter-craft.py --send-ech ADDRESS PORT SNI
           sends a ClientHello with SNI and the ECH extension over TCP and
           exits 0 when the connection is cut (reset, or closed or silent
           for 3 s without a byte back), 1 when the server answered

  webfilter-ech.pcap  192.168.1.50 sends three TLS ClientHellos to port 443
                      of 203.0.113.60: one with SNI public.ech.example and
                      the encrypted_client_hello extension (0xfe0d), one
                      with SNI esni.example and the older
                      encrypted_server_name (0xffce), and one with SNI
                      plain.example and neither
  webfilter-idn.pcap  192.168.1.51 asks 198.51.100.70 for
                      http://<Host>/ with the Host header in UTF-8:
                      "\u4f8b\u3048.\u30c6\u30b9\u30c8" (xn--r8jz45g.xn--zckzah), then
                      "\u30b7\u30e7\u30c3\u30d7.example" (xn--xckya1d0c.example)
"""
import importlib.util
import os
import struct
import sys

spec = importlib.util.spec_from_file_location(
    "intel_craft", os.path.join(os.path.dirname(os.path.abspath(__file__)), "intel-craft.py"))
ic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ic)

T0 = ic.T0


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def client_hello(sni, extra):
    name = sni.encode()
    exts = ext(0x0000, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    exts += ext(0x000A, struct.pack("!HH", 2, 0x001D))                # supported_groups
    exts += ext(0x002B, bytes([2]) + struct.pack("!H", 0x0304))       # supported_versions
    exts += extra
    body = struct.pack("!H", 0x0303) + bytes(range(32))               # version, random
    body += bytes([32]) + bytes(range(32, 64))                        # session id
    body += struct.pack("!HHH", 4, 0x1301, 0x1302) + b"\x01\x00"      # suites, compression
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def ech_ext():
    # ECHClientHello, outer: type 0, HPKE KDF 1, AEAD 1, config id 7, the
    # encapsulated key (32 bytes) and a payload (stand-in bytes)
    enc = bytes(range(100, 132))
    payload = bytes((i * 7) & 0xFF for i in range(144))
    return ext(0xFE0D, struct.pack("!BHHB", 0, 1, 1, 7) + struct.pack("!H", len(enc)) + enc +
               struct.pack("!H", len(payload)) + payload)


def esni_ext():
    return ext(0xFFCE, struct.pack("!H", 0x1301) + bytes(40))


def ech(path):
    p = ic.Pcap(path)
    t = ic.session(p, T0, "192.168.1.50", 50001, "203.0.113.60", 443,
                   client_hello("public.ech.example", ech_ext()))
    t = ic.session(p, t + 1, "192.168.1.50", 50002, "203.0.113.60", 443,
                   client_hello("esni.example", esni_ext()))
    ic.session(p, t + 1, "192.168.1.50", 50003, "203.0.113.60", 443,
               client_hello("plain.example", b""))
    p.close()


def idn(path):
    p = ic.Pcap(path)
    t = T0
    for host in ("\u4f8b\u3048.\u30c6\u30b9\u30c8", "\u30b7\u30e7\u30c3\u30d7.example"):
        req = (b"GET / HTTP/1.1\r\nHost: " + host.encode("utf-8") +
               b"\r\nUser-Agent: test-agent\r\nAccept: */*\r\n\r\n")
        t = ic.session(p, t, "192.168.1.51", 51000 + int(t - T0), "198.51.100.70", 80, req,
                       ic.http_response(b"ok\n", b"text/plain")) + 1
    p.close()


def send_ech(addr, port, sni):
    import socket
    s = socket.create_connection((addr, int(port)), timeout=5)
    s.settimeout(3)
    try:
        s.sendall(client_hello(sni, ech_ext()))
        got = s.recv(1)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return 0
    finally:
        s.close()
    return 1 if got else 0


if __name__ == "__main__":
    if sys.argv[1] == "--send-ech":
        sys.exit(send_ech(sys.argv[2], sys.argv[3], sys.argv[4]))
    out = sys.argv[1]
    ech(out + "/webfilter-ech.pcap")
    idn(out + "/webfilter-idn.pcap")
