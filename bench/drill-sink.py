#!/usr/bin/env python3
"""A local SMTP sink for bench/drill: accepts every message on 127.0.0.1:PORT
and counts it (writes nothing but the count and the arrival times to DIR/count
at the end). usage: drill-sink.py PORT DIR"""
import socket, sys, threading, os
port=int(sys.argv[1]); d=sys.argv[2]; reject=''
import time, signal
first=[0.0]; last=[0.0]
def dump(*_):
    open(os.path.join(d,'count'),'w').write('%d %.3f %.3f\n'%(n[0], first[0], last[0])); sys.exit(0)
signal.signal(signal.SIGTERM, dump)
n=[0]; lock=threading.Lock()
def handle(c):
    f=c.makefile('rwb')
    def w(s): f.write(s.encode()+b'\r\n'); f.flush()
    w('220 sink ESMTP')
    rcpt=''
    while True:
        l=f.readline()
        if not l: break
        u=l.decode('latin1').strip(); U=u.upper()
        if U.startswith('EHLO'): f.write(b'250-sink\r\n250 8BITMIME\r\n'); f.flush()
        elif U.startswith('HELO'): w('250 sink')
        elif U.startswith('MAIL'): w('250 ok')
        elif U.startswith('RCPT'):
            rcpt=u
            if reject and reject in u: w('550 5.1.1 no such user')
            else: w('250 ok')
        elif U=='DATA':
            w('354 go'); data=b''
            while True:
                l=f.readline()
                if l in (b'.\r\n', b'.\n', b''): break
                data+=l
            with lock:
                n[0]+=1
                last[0]=time.time()
                if n[0]==1: first[0]=last[0]
            w('250 queued')
        elif U=='QUIT': w('221 bye'); break
        elif U=='RSET' or U=='NOOP': w('250 ok')
        else: w('502 no')
    c.close()
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); s.bind(('127.0.0.1',port)); s.listen(50)
while True:
    c,_=s.accept(); threading.Thread(target=handle,args=(c,),daemon=True).start()
