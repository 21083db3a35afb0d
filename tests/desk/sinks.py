#!/usr/bin/env python3
"""Two loopback sinks for the desk's notifications: a minimal SMTP server
(each message's DATA appended to OUT.mail) and an HTTP server (each POST
body appended to OUT.hook as one line). A port of 0 lets the system pick a
free one; the ports in use are written to OUT.ports ("SMTP HTTP") once both
listen.
   sinks.py SMTP_PORT HTTP_PORT OUT"""
import os
import http.server
import socketserver
import sys
import threading

smtp_port, http_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


class Smtp(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b'220 sink ESMTP\r\n')
        data = None
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data is not None:
                if line in (b'.\r\n', b'.\n'):
                    with open(out + '.mail', 'ab') as f:
                        f.write(b''.join(data) + b'\n--end--\n')
                    data = None
                    self.wfile.write(b'250 queued\r\n')
                else:
                    data.append(line)
                continue
            cmd = line[:4].upper()
            if cmd in (b'EHLO', b'HELO'):
                self.wfile.write(b'250 sink\r\n')
            elif cmd == b'DATA':
                data = []
                self.wfile.write(b'354 go on\r\n')
            elif cmd == b'QUIT':
                self.wfile.write(b'221 bye\r\n')
                return
            else:
                self.wfile.write(b'250 ok\r\n')


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n)
        with open(out + '.hook', 'ab') as f:
            f.write(body + b'\n')
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


socketserver.TCPServer.allow_reuse_address = True
s = socketserver.ThreadingTCPServer(('127.0.0.1', smtp_port), Smtp)
h = http.server.ThreadingHTTPServer(('127.0.0.1', http_port), Hook)
with open(out + '.ports.tmp', 'w') as f:
    f.write('%d %d\n' % (s.server_address[1], h.server_address[1]))
os.rename(out + '.ports.tmp', out + '.ports')
threading.Thread(target=s.serve_forever, daemon=True).start()
h.serve_forever()
