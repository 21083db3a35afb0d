#!/usr/bin/env python3
"""plant-rules: a capture with ET Open rule matches planted in it.

Picks a deterministic sample of enabled rules of a few shapes and builds,
for each, one flow whose data satisfies the rule's content keywords:

  tcp      payload content (with offset/depth/distance/within) on a TCP
           session, the bytes cut into two segments in the middle of the
           first content so that only the reassembled stream holds it whole
  http     a request (or a response, for to_client rules) built from the
           http.uri/method/host/user_agent/header/cookie/file_data
           (request or response body) contents
  mixed    payload content next to http buffers (the stream and the
           transaction must both hold)
  dns      a UDP query whose name carries the dns.query contents
  tls      a TLS ClientHello whose SNI carries the tls.sni contents

Rules that need what a content list cannot give (pcre, byte_*, isdataat,
dsize, flowbits tests, thresholds, negated contents, transforms, ...) are
not picked. Each planted flow has its own client address, so alerts can be
paired by sid and flow (scripts/compare-rules); the manifest (sid, shape,
client, server, ports) is written next to the capture as OUTPUT.tsv.

With --check OMAMORI, the capture (already written) is run through
omamori and Suricata 7 with every ET Open file (scripts/compare-rules'
runner) and each planted rule is looked up on its own flow: per shape, how
many of the planted sids each side alerted on there, and the ones missed.

With --compare OMAMORI REPORT (what `make compare` runs): plants into a
temporary capture, runs scripts/compare-rules --et-open over it (alerts
paired by sid and flow) and the check above, and writes both to REPORT;
without ET Open ($OMAMORI_ET_OPEN) it says so and does nothing.

usage: plant-rules.py [--seed N] [--per-shape N] ETOPEN_DIR OUTPUT.pcap
       plant-rules.py --check OMAMORI ETOPEN_DIR OUTPUT.pcap
       plant-rules.py --compare OMAMORI REPORT
"""
import argparse
import glob
import os
import random
import re
import struct
import sys

T0 = 1710000000


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(src, dst, sp, dp, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ph = struct.pack("!4s4sBBH", src, dst, 0, 6, len(h) + len(data))
    return h[:16] + struct.pack("!H", csum(ph + h + data)) + h[18:] + data


def udp(src, dst, sp, dp, data):
    h = struct.pack("!HHHH", sp, dp, 8 + len(data), 0)
    ph = struct.pack("!4s4sBBH", src, dst, 0, 17, len(h) + len(data))
    return h[:6] + struct.pack("!H", csum(ph + h + data) or 0xFFFF) + data


def eth(ip):
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip


class Cap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.t = 0

    def add(self, frame):
        self.t += 1000
        self.f.write(struct.pack("<IIII", T0 + self.t // 1000000, self.t % 1000000, len(frame),
                                 len(frame)))
        self.f.write(frame)


class Session:
    """A TCP session with handshake; data segments are ACKed by the peer."""

    def __init__(self, cap, cli, srv, sp, dp):
        self.c, self.cli, self.srv, self.sp, self.dp = cap, cli, srv, sp, dp
        self.seq = [1000, 50000]
        self.send(0, 0x02)
        self.send(1, 0x12)
        self.send(0, 0x10)

    def send(self, d, flags, data=b""):
        src, dst = (self.cli, self.srv) if d == 0 else (self.srv, self.cli)
        sp, dp = (self.sp, self.dp) if d == 0 else (self.dp, self.sp)
        self.c.add(eth(ipv4(src, dst, 6, tcp(src, dst, sp, dp, self.seq[d], self.seq[1 - d],
                                             flags, data))))
        self.seq[d] = (self.seq[d] + len(data) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

    def data(self, d, payload, cut=None):
        """payload in one segment, or two cut at byte cut"""
        if cut and 0 < cut < len(payload):
            self.send(d, 0x18, payload[:cut])
            self.send(d, 0x18, payload[cut:])
        else:
            for i in range(0, len(payload), 1400):
                self.send(d, 0x18, payload[i:i + 1400])
        self.send(1 - d, 0x10)

    def close(self):
        self.send(0, 0x11)
        self.send(1, 0x11)
        self.send(0, 0x10)


# ---- rule text -------------------------------------------------------------------------


def options(text):
    """(keyword, value) pairs; values end at the first unescaped ';'"""
    out, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] == ")":
            break
        j = i
        while j < n and text[j] not in ":;":
            j += 1
        kw = text[i:j].strip()
        val = None
        if j < n and text[j] == ":":
            k = j + 1
            buf = []
            while k < n and text[k] != ";":
                if text[k] == "\\" and k + 1 < n:
                    buf.append(text[k + 1])
                    k += 2
                    continue
                buf.append(text[k])
                k += 1
            val = "".join(buf).strip()
            j = k
        out.append((kw, val))
        i = j + 1
    return out


def content_bytes(v):
    """the bytes of a content value ("..|41 42|..")"""
    neg = v.startswith("!")
    if neg:
        v = v[1:].strip()
    if not (v.startswith('"') and v.endswith('"')):
        return None, neg
    v = v[1:-1]
    out, hexmode, i = bytearray(), False, 0
    while i < len(v):
        ch = v[i]
        if ch == "|":
            hexmode = not hexmode
            i += 1
            continue
        if hexmode:
            h = v[i:].split("|", 1)[0].replace(" ", "")
            if len(h) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", h):
                return None, neg
            out += bytes.fromhex(h)
            i += len(v[i:].split("|", 1)[0])
            continue
        out += ch.encode("latin-1", "replace")
        i += 1
    return bytes(out), neg


STICKY = {
    "http.uri": "uri", "http_uri": "uri", "http.uri.raw": "uri", "http_raw_uri": "uri",
    "http.method": "method", "http_method": "method", "http.host": "host", "http_host": "host",
    "http.user_agent": "ua", "http_user_agent": "ua", "http.header": "header",
    "http_header": "header", "http.cookie": "cookie", "http_cookie": "cookie",
    "file_data": "body", "file.data": "body", "http.request_body": "body",
    "http_client_body": "body", "http.response_body": "body", "http_server_body": "body",
    "dns.query": "dns", "dns_query": "dns", "tls.sni": "sni", "tls_sni": "sni",
}
MODIFIERS = {"http_uri", "http_raw_uri", "http_method", "http_host", "http_user_agent",
             "http_header", "http_cookie", "http_client_body", "http_server_body"}
ALLOWED = {"msg", "sid", "rev", "gid", "classtype", "priority", "reference", "metadata",
           "target", "content", "nocase", "depth", "offset", "distance", "within",
           "fast_pattern", "startswith", "endswith", "flow", "rawbytes", "pkt_data",
           "flowbits", "threshold", "bsize"}


class Rule:
    pass


def parse(line):
    m = re.match(r"(alert|drop|reject|pass)\s+(\S+)\s+(\S+)\s+(\S+)\s+(->|<>)\s+(\S+)\s+(\S+)\s*\((.*)\)\s*$",
                 line)
    if not m:
        return None
    r = Rule()
    r.proto, r.src, r.sp, r.dir, r.dst, r.dp = m.group(2, 3, 4, 5, 6, 7)
    r.opts = options(m.group(8))
    r.sid = 0
    r.flow = ""
    r.bufs = {}  # name -> [content dicts]
    cur = "pkt"
    last = None
    for kw, val in r.opts:
        if kw == "sid":
            r.sid = int(val)
        if kw not in ALLOWED and kw not in STICKY and kw not in MODIFIERS:
            return None
        if kw == "flowbits" and val and val.split(",")[0].strip() in ("isset", "isnotset",
                                                                       "noalert"):
            return None
        if kw == "noalert":
            return None
        if kw == "threshold" and "limit" not in (val or ""):
            return None
        if kw == "bsize":
            return None
        if kw == "flow":
            r.flow = val or ""
            if "only_stream" in r.flow or "no_stream" in r.flow:
                pass
        elif kw in STICKY:
            cur = STICKY[kw]
        elif kw == "pkt_data":
            cur = "pkt"
        elif kw == "content":
            b, neg = content_bytes(val or "")
            if b is None:
                return None
            if neg:
                last = None
                continue  # left out of the bytes planted
            last = {"b": b, "offset": 0, "depth": None, "distance": None, "within": None,
                    "start": False, "end": False}
            r.bufs.setdefault(cur, []).append(last)
        elif kw in MODIFIERS:
            if last is None:
                continue
            # the legacy form moves the last content into that buffer
            b = r.bufs[cur].pop()
            r.bufs.setdefault(STICKY[kw], []).append(b)
        elif kw in ("offset", "depth", "distance", "within"):
            if last is None:
                continue
            try:
                last[kw] = int(val)
            except (TypeError, ValueError):
                return None
        elif kw == "startswith" and last is not None:
            last["start"] = True
        elif kw == "endswith" and last is not None:
            last["end"] = True
    if not r.sid or not r.bufs:
        return None
    return r


def build(contents, pad=b"_"):
    """bytes holding the contents in order, as their positions allow"""
    out = bytearray()
    for c in contents:
        b = c["b"]
        if c["start"]:
            if out:
                return None
        elif c["distance"] is not None or c["within"] is not None:
            d = c["distance"] or 0
            if d < 0:
                # back into what was written: only if it fits as is
                return None
            out += pad * d
        elif c["offset"] or c["depth"] is not None:
            off = c["offset"] or 0
            if len(out) > off:
                return None
            out += pad * (off - len(out))
            if c["depth"] is not None and off + len(b) > off + c["depth"]:
                return None
        out += b
        if c["end"]:
            pass
    ends = [c for c in contents if c["end"]]
    if ends and contents[-1] is not ends[-1]:
        return None
    return bytes(out)


# ---- addresses ----------------------------------------------------------------------------

class Hosts:
    def __init__(self):
        self.n = 0

    def pair(self, r):
        """(client, server) addresses: inside is 192.168.0.0/16"""
        self.n += 1
        a, b = self.n // 250, self.n % 250 + 1
        inside = bytes([192, 168, 100 + a, b])
        outside = bytes([198, 51, 100 + a % 100, b]) if a < 100 else bytes([203, 0, 113, b])
        to_client = "to_client" in r.flow or "from_server" in r.flow
        # the rule's source sends the data
        sender_in = not r.src.startswith("$EXTERNAL") and not r.src.startswith("!$HOME")
        recv_in = not sender_in if r.dst in ("$EXTERNAL_NET", "any") and sender_in else \
            not (r.dst.startswith("$EXTERNAL") or r.dst.startswith("!$HOME"))
        if r.src == "any" and r.dst == "$HOME_NET":
            sender_in, recv_in = False, True
        if r.src == "any" and r.dst == "any":
            sender_in, recv_in = True, False
        s_addr = inside if sender_in else outside
        r_addr = outside if sender_in else inside
        if not sender_in and not recv_in:
            r_addr = outside[:3] + bytes([(outside[3] + 1) % 250 + 1])
        if sender_in and recv_in:
            r_addr = bytes([192, 168, 200 + a % 50, b])
        if to_client:
            return r_addr, s_addr, True  # the client receives the data
        return s_addr, r_addr, False


PORTVARS = {"$HTTP_PORTS": 80, "$FILE_DATA_PORTS": 80, "$SSH_PORTS": 22, "$ORACLE_PORTS": 1521,
            "$FTP_PORTS": 21, "$SHELLCODE_PORTS": 4444}


def port_of(spec, default):
    spec = spec.strip()
    if spec in PORTVARS:
        return PORTVARS[spec]
    if spec == "any" or spec.startswith("!"):
        return default
    if spec.startswith("["):
        spec = spec[1:].split(",")[0].strip("] ")
        return port_of(spec, default)
    m = re.match(r"^(\d+)(?::(\d*))?$", spec)
    if m:
        return int(m.group(1)) or default
    return default


# ---- shapes -----------------------------------------------------------------------------


def http_request(r):
    b = r.bufs
    method = build(b.get("method", [])) or b"GET"
    uri = build(b.get("uri", [])) or b"/"
    if not uri.startswith(b"/"):
        uri = b"/" + uri
    host = build(b.get("host", [])) or b"www.example.com"
    ua = build(b.get("ua", [])) or b"Mozilla/5.0"
    hdr = build(b.get("header", [])) or b""
    cookie = build(b.get("cookie", [])) or b""
    body = build(b.get("body", [])) or b""
    if None in (method, uri, host, ua, hdr, cookie, body) or b"\r\n" in uri or b" " in uri:
        return None
    req = method + b" " + uri + b" HTTP/1.1\r\nHost: " + host + b"\r\nUser-Agent: " + ua + b"\r\n"
    if cookie:
        req += b"Cookie: " + cookie + b"\r\n"
    if hdr:
        req += (hdr if b":" in hdr else b"X-Planted: " + hdr) + b"\r\n"
    if body:
        req += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return req + b"\r\n" + body


def http_response(r):
    body = build(r.bufs.get("body", [])) or b""
    hdr = build(r.bufs.get("header", [])) or b""
    if body is None or hdr is None:
        return None
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
    if hdr:
        resp += (hdr if b":" in hdr else b"X-Planted: " + hdr) + b"\r\n"
    return resp + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def dns_query(name, qid):
    q = b""
    for label in name.strip(b".").split(b"."):
        if not label or len(label) > 63:
            return None
        q += bytes([len(label)]) + label
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + b"\0" + struct.pack("!HH", 1, 1)


def client_hello(sni):
    name = b"\x00" + struct.pack("!H", len(sni)) + sni  # host_name
    lst = struct.pack("!H", len(name)) + name
    exts = struct.pack("!HH", 0, len(lst)) + lst  # server_name
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!H", 4) + b"\x13\x01\xc0\x2f" +
            b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def shape_of(r):
    names = set(r.bufs)
    if names == {"pkt"}:
        return "tcp" if r.proto == "tcp" else None
    if names <= {"dns"} and r.proto in ("dns", "udp"):
        return "dns"
    if names <= {"sni"} and r.proto in ("tls", "tcp"):
        return "tls"
    http = {"uri", "method", "host", "ua", "header", "cookie", "body"}
    if r.proto in ("http", "tcp") and names <= http:
        return "http"
    if r.proto in ("http", "tcp") and "pkt" in names and names - {"pkt"} <= http:
        return "mixed"
    return None


def check(omamori, etopen, pcap):
    import importlib.machinery
    import tempfile
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cr = importlib.machinery.SourceFileLoader(
        "compare_rules", os.path.join(root, "scripts", "compare-rules")).load_module()
    rules = sorted(glob.glob(os.path.join(etopen, "*.rules")))
    with tempfile.TemporaryDirectory() as tmp:
        (om, onames), (su, snames) = cr.run_pair(omamori, rules, pcap, tmp)
    rows = [line.rstrip("\n").split("\t") for line in open(pcap + ".tsv")
            if not line.startswith("#")]
    per = {}
    print(f"# planted rules found on their own flow ({os.path.basename(pcap)})")
    for sid, shape, cli, cport, srv, sport in rows:
        a = (cli, int(cport))
        b = (srv, int(sport))
        proto = "UDP" if shape == "dns" else "TCP"
        k = (int(sid), tuple(sorted([a, b])) + (proto,))
        got = (om.get(k, 0) > 0, su.get(k, 0) > 0)
        c = per.setdefault(shape, [0, 0, 0, []])
        c[0] += 1
        c[1] += got[0]
        c[2] += got[1]
        if got != (True, True):
            c[3].append((sid, got))
    for shape, (n, o, s_, miss) in per.items():
        print(f"{shape}: planted {n}, omamori {o}, suricata {s_}")
        for sid, got in miss:
            side = "neither" if not any(got) else "omamori only" if got[0] else "suricata only"
            print(f"  sid {sid}: {side}")


def compare(omamori, report):
    import subprocess
    import tempfile
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    et = os.environ.get("OMAMORI_ET_OPEN", os.path.join(root, "..", "shared", "data",
                                                        "et-open-2024"))
    if not glob.glob(os.path.join(et, "*.rules")):
        print(f"plant-rules: skipped: no ET Open rules in {et} (set OMAMORI_ET_OPEN)",
              file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "planted.pcap")
        me = os.path.abspath(__file__)
        subprocess.run([sys.executable, me, et, cap], check=True)
        out = os.path.join(tmp, "pairs.txt")
        subprocess.run([sys.executable, os.path.join(root, "scripts", "compare-rules"),
                        "--omamori", omamori, "--et-open", "--out", out, cap], check=True,
                       stdout=subprocess.DEVNULL)
        chk = subprocess.run([sys.executable, me, "--check", omamori, et, cap], check=True,
                             capture_output=True, text=True).stdout
        with open(report, "w") as f:
            f.write("# bench/plant-rules.py: ET Open rule matches planted into a capture "
                    "(seed 1, 100 rules per shape), omamori vs Suricata 7\n\n")
            f.write(open(out).read() + "\n" + chk)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 5 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-shape", type=int, default=100)
    ap.add_argument("etopen")
    ap.add_argument("output")
    a = ap.parse_args()
    by = {}
    for path in sorted(glob.glob(os.path.join(a.etopen, "*.rules"))):
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            r = parse(line)
            if r is None or r.dir != "->":
                continue
            s = shape_of(r)
            if s:
                by.setdefault(s, []).append(r)
    rnd = random.Random(a.seed)
    cap = Cap(a.output)
    hosts = Hosts()
    manifest = []
    for shape in ("tcp", "http", "mixed", "dns", "tls"):
        pool = by.get(shape, [])
        rnd.shuffle(pool)
        picked = 0
        for r in pool:
            if picked >= a.per_shape:
                break
            cli, srv, to_client = hosts.pair(r)
            # the server's port is the receiver's (or the sender's for
            # to_client rules)
            dport = port_of(r.sp if to_client else r.dp, 80 if shape in ("http", "mixed") else
                            443 if shape == "tls" else 53 if shape == "dns" else 8080)
            sport = 30000 + hosts.n % 30000
            if shape == "dns":
                q = build(r.bufs["dns"])
                if q and q.startswith(b"."):
                    q = b"www" + q  # a name below the domain
                p = dns_query(q, hosts.n & 0xFFFF) if q else None
                if not p:
                    continue
                cap.add(eth(ipv4(cli, srv, 17, udp(cli, srv, sport, 53, p))))
            elif shape == "tls":
                sni = build(r.bufs["sni"])
                if sni and sni.startswith(b"."):
                    sni = b"www" + sni
                if not sni:
                    continue
                s = Session(cap, cli, srv, sport, dport)
                s.data(0, client_hello(sni))
                s.close()
            elif shape == "tcp":
                pl = build(r.bufs["pkt"])
                if not pl:
                    continue
                first = r.bufs["pkt"][0]["b"]
                at = pl.find(first)
                cut = at + len(first) // 2 if len(first) > 1 else None
                s = Session(cap, cli, srv, sport, dport)
                s.data(1 if to_client else 0, pl, cut)
                s.close()
            else:
                if to_client:
                    req = b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
                    resp = http_response(r)
                    if resp is None:
                        continue
                else:
                    req = http_request(r)
                    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                    if req is None:
                        continue
                if shape == "mixed":
                    pl = build(r.bufs["pkt"])
                    anchored = any(c["start"] or c["offset"] or c["depth"] is not None
                                   for c in r.bufs["pkt"])
                    if not pl or b"\r\n\r\n" in pl or anchored:
                        continue  # anchored payload: where the request begins
                    # the payload part rides in a header of its own
                    line = b"X-Payload: " + pl + b"\r\n"
                    if to_client:
                        resp = resp.replace(b"\r\n", b"\r\n" + line, 1)
                    else:
                        req = req.replace(b"\r\n", b"\r\n" + line, 1)
                s = Session(cap, cli, srv, sport, dport)
                s.data(0, req)
                s.data(1, resp)
                s.close()
            picked += 1
            manifest.append((r.sid, shape, ".".join(map(str, cli)), sport,
                             ".".join(map(str, srv)), 53 if shape == "dns" else dport))
        print(f"plant-rules: {shape}: {picked} of {len(pool)} candidate rules planted",
              file=sys.stderr)
    cap.f.close()
    with open(a.output + ".tsv", "w") as f:
        f.write("# sid\tshape\tclient\tcport\tserver\tsport\n")
        for m in manifest:
            f.write("\t".join(map(str, m)) + "\n")


if __name__ == "__main__":
    main()
