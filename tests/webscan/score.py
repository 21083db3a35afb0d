#!/usr/bin/env python3
"""score.py: precision and recall by class on the fixture site.

usage: score.py TRUTH OMAMORI_JSON [--wapiti WAPITI_JSON] [--require]
                [--time-omamori S] [--time-wapiti S] [--requests-wapiti N]

Reads the truth table (class, vulnerable path, safe twin path), our JSON
report and optionally Wapiti's JSON report (its categories mapped onto our
classes), and prints one table: per class found or missed and false
positives (findings on the safe twins), then precision and recall. With
--require it exits 1 unless every class is found with no false positive.
"""
import json
import sys
from urllib.parse import urlsplit

# Wapiti 3.0.x category names -> our classes
WAPITI = {
    "Cross Site Scripting": "xss_reflected",
    "Stored Cross Site Scripting": "xss_stored",
    "SQL Injection": "sqli",
    "Blind SQL Injection": "sqli_blind",
    "Commands execution": "os_command",
    "Command execution": "os_command",
    "Path Traversal": "path_traversal",
    "Backup file": "backup_file",
    "Potentially dangerous file": "info_leak",
    "Open Redirect": "open_redirect",
    "Cross Site Request Forgery": "csrf",
    "Content Security Policy Configuration": "header",
    "HTTP Secure Headers": "header",
    "Clickjacking Protection": "header",
    "MIME Type Confusion": "header",
    "HttpOnly Flag cookie": "cookie",
    "Secure Flag cookie": "cookie",
    "Unrestricted File Upload": "file_upload",
    "Fingerprint web technology": "banner",
    "Internal Server Error": "info_leak",
}


def read_truth(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].split()
        if len(line) == 3:
            rows.append(tuple(line))
    return rows


def ours(path):
    d = json.load(open(path, encoding="utf-8"))
    out = [(f["class"], urlsplit(f["url"]).path) for f in d["findings"]]
    return out, d


def wapiti(path, truth):
    d = json.load(open(path, encoding="utf-8"))
    inst = {c: v for c, v, _ in truth}
    out = []
    for section in ("vulnerabilities", "anomalies", "additionals"):
        for cat, items in (d.get(section) or {}).items():
            cls = WAPITI.get(cat)
            if not cls:
                continue
            for it in items:
                p = urlsplit(it.get("path", "")).path
                c = cls
                # Wapiti files both XSS kinds and include under one name:
                # credit the class whose instance it points at
                if cls == "xss_reflected" and p.startswith(inst["xss_stored"]):
                    c = "xss_stored"
                if cls == "path_traversal" and p.startswith(inst["file_inclusion"]):
                    c = "file_inclusion"
                out.append((c, p))
    return out


# Wapiti files headers and cookie flags once for the site, at "/": those
# are credited to the header and cookie instances (generous to it).
SITE_WIDE = ("header", "cookie")


def score(truth, findings, site_wide=False):
    res = {}
    for cls, vuln, safe in truth:
        tp = sum(1 for c, p in findings if c == cls and (p.startswith(vuln) or
                 (site_wide and cls in SITE_WIDE and p == "/")))
        fp = sum(1 for c, p in findings if c == cls and p.startswith("/safe/"))
        res[cls] = (tp > 0, fp)
    other_fp = sum(1 for c, p in findings if p.startswith("/safe/") and c not in res)
    return res, other_fp


def main(argv):
    args = argv[1:]
    require = "--require" in args
    opts = {}
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--wapiti", "--time-omamori", "--time-wapiti", "--requests-wapiti"):
            opts[a] = args[i + 1]
            i += 2
            continue
        if a != "--require":
            pos.append(a)
        i += 1
    truth = read_truth(pos[0])
    mine, doc = ours(pos[1])
    r1, o1 = score(truth, mine)
    r2 = o2 = None
    if "--wapiti" in opts:
        r2, o2 = score(truth, wapiti(opts["--wapiti"], truth), site_wide=True)
    head = f"{'class':16} {'omamori':>8} {'FP':>3}"
    if r2:
        head += f" {'wapiti':>8} {'FP':>3}"
    print(head)
    for cls, _, _ in truth:
        f, fp = r1[cls]
        line = f"{cls:16} {'found' if f else 'MISSED':>8} {fp:>3}"
        if r2:
            f2, fp2 = r2[cls]
            line += f" {'found' if f2 else 'missed':>8} {fp2:>3}"
        print(line)

    def summary(r, other):
        found = sum(1 for f, _ in r.values() if f)
        fps = sum(fp for _, fp in r.values()) + other
        tp = found
        prec = tp / (tp + fps) if tp + fps else 1.0
        return found, fps, prec, found / len(r)

    f1, fp1, p1, rc1 = summary(r1, o1)
    print(f"omamori: {f1}/{len(r1)} classes found, {fp1} false positives, "
          f"precision {p1:.2f}, recall {rc1:.2f}, requests {doc['requests']}, "
          f"pages {doc['pages']}"
          + (f", wall time {opts['--time-omamori']} s" if "--time-omamori" in opts else ""))
    if r2:
        f2, fp2, p2, rc2 = summary(r2, o2)
        print(f"wapiti:  {f2}/{len(r2)} classes found, {fp2} false positives, "
              f"precision {p2:.2f}, recall {rc2:.2f}"
              + (f", requests {opts['--requests-wapiti']}" if "--requests-wapiti" in opts else "")
              + (f", wall time {opts['--time-wapiti']} s" if "--time-wapiti" in opts else ""))
    if require and (f1 != len(r1) or fp1):
        print("score: not every class found, or false positives on the safe twins",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
