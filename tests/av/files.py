# Writes the anti-virus tests' files into a directory: eicar.com (the EICAR
# test string), eicar.zip (it, stored in a zip), clean.pdf (a one-page PDF
# with text), notes.txt (plain text). Deterministic: the zip's date is fixed.
import sys, zipfile

d = sys.argv[1]
# the EICAR string in two halves, so that this file is not itself a test virus
eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
open(d + "/eicar.com", "wb").write(eicar)
with zipfile.ZipFile(d + "/eicar.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr(zipfile.ZipInfo("eicar.com", date_time=(2026, 1, 1, 0, 0, 0)), eicar)
body = b"BT /F1 18 Tf 72 720 Td (Quarterly price list) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
pdf = bytearray(b"%PDF-1.4\n")
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(pdf))
    pdf += b"%d 0 obj\n" % i + o + b"\nendobj\n"
xref = len(pdf)
pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    pdf += b"%010d 00000 n \n" % o
pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open(d + "/clean.pdf", "wb").write(pdf)
with open(d + "/notes.txt", "w") as f:
    for i in range(200):
        f.write("meeting note %03d: the antivirus test must not alert on this line\n" % i)
