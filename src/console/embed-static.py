#!/usr/bin/env python3
"""Writes a C file holding the console's static files (data/console) as
arrays: con_static_files[] = {name, content type, bytes, length}."""
import os
import sys

TYPES = {'.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
         '.svg': 'image/svg+xml', '.png': 'image/png'}

out, inputs = sys.argv[1], sys.argv[2:]
with open(out, 'w') as f:
    f.write('/* generated from data/console by src/console/embed-static.py */\n')
    f.write('#include <stddef.h>\n#include "console/internal.h"\n')
    for i, path in enumerate(inputs):
        data = open(path, 'rb').read()
        f.write('static const unsigned char file%d[] = {' % i)
        f.write(','.join(str(b) for b in data) or '0')
        f.write('};\n')
    f.write('const con_static_file con_static_files[] = {\n')
    for i, path in enumerate(inputs):
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1]
        size = os.path.getsize(path)
        f.write('  {"/static/%s", "%s", file%d, %d},\n' % (name, TYPES.get(ext, 'application/octet-stream'), i, size))
    f.write('  {NULL, NULL, NULL, 0}\n};\n')
