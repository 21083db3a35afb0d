# bench/av-corpus.py DIR: writes the anti-virus benchmark's mixed corpus
# (deterministic): Debian's clamav-testfiles (44 files, clam.exe in archives,
# packers, documents and mail), text and HTML pages, pseudo-random binaries,
# deflated zips of text, PDFs with text pages, and EICAR plain and zipped.
import os, random, shutil, sys, zipfile

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rnd = random.Random(20261201)
words = ("invoice order meeting price delivery customer report schedule office "
         "network backup printer account payment contract quarter summary").split()


def text(n):
    out, size = [], 0
    while size < n:
        line = " ".join(rnd.choice(words) for _ in range(12)) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out)[:n].encode()


t = "/usr/share/clamav-testfiles"
for f in sorted(os.listdir(t)):
    shutil.copy(os.path.join(t, f), os.path.join(d, "tf-" + f))
for i in range(120):
    open(f"{d}/text-{i:03d}.txt", "wb").write(text(rnd.randint(2_000, 300_000)))
for i in range(30):
    body = text(rnd.randint(5_000, 100_000)).decode()
    open(f"{d}/page-{i:03d}.html", "w").write(
        f"<html><head><title>page {i}</title></head><body><p>{body}</p></body></html>")
for i in range(50):
    open(f"{d}/bin-{i:03d}.bin", "wb").write(rnd.randbytes(rnd.randint(64_000, 2_000_000)))
for i in range(30):
    with zipfile.ZipFile(f"{d}/docs-{i:03d}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(rnd.randint(2, 8)):
            zi = zipfile.ZipInfo(f"doc-{k}.txt", date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, text(rnd.randint(10_000, 400_000)))
for i in range(20):
    pages = rnd.randint(1, 30)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for p in range(pages):
        s = ("BT /F1 10 Tf 50 750 Td (" + text(1500).decode().replace("\n", " ") + ") Tj ET").encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(s) + s + b"\nendstream")
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>"
                    % len(objs))
        kids.append(b"%d 0 R" % len(objs))
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    pdf = bytearray(b"%PDF-1.4\n")
    offs = []
    for n, o in enumerate(objs, 1):
        offs.append(len(pdf))
        pdf += b"%d 0 obj\n" % n + o + b"\nendobj\n"
    x = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        pdf += b"%010d 00000 n \n" % o
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    open(f"{d}/brochure-{i:03d}.pdf", "wb").write(pdf)
eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
for i in range(3):
    open(f"{d}/eicar-{i}.com", "wb").write(eicar)
    with zipfile.ZipFile(f"{d}/eicar-{i}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("eicar.com", date_time=(2026, 1, 1, 0, 0, 0)), eicar)
