#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The MySQL front end under hostile or careless clients: 500 idle connections, malformed and
# oversized packets, clients that vanish mid-packet. After each, a normal client must still be
# served, and at the end the server must exit cleanly (exit 0, no sanitizer reports, no leaks).
import os
import resource
import shutil
import socket
import struct
import sys
import tempfile
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}\n    {detail}")


def raw_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def read_packet(s):
    header = b""
    while len(header) < 4:
        chunk = s.recv(4 - len(header))
        if not chunk:
            return None
        header += chunk
    length = header[0] | header[1] << 8 | header[2] << 16
    body = b""
    while len(body) < length:
        chunk = s.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def packet(payload, seq):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def still_serves(port):
    try:
        c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", connect_timeout=10)
        with c.cursor() as cur:
            cur.execute("SELECT 40 + 2")
            value = cur.fetchone()[0]
        c.close()
        return value == 42
    except Exception as e:  # reported by the caller's check
        print(f"    client failed: {e}")
        return False


def main():
    binary = sys.argv[1]
    # 500 client sockets here plus 500 in the server (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    work = tempfile.mkdtemp(prefix="tv-robust-")
    server = TvServer(binary, os.path.join(work, "data"), os.path.join(work, "server.log"))
    try:
        server.start()
        port = server.mysql_port

        idle = []
        for _ in range(500):
            s = raw_connect(port)
            greeting = read_packet(s)
            idle.append((s, greeting))
        check("500 idle connections each got a handshake", all(g and g[0] == 10 for _, g in idle))
        check("served while 500 connections sit idle", still_serves(port))
        for s, _ in idle:
            s.close()
        check("served after the idle connections left", still_serves(port))

        s = raw_connect(port)
        read_packet(s)
        s.sendall(packet(b"\x01\x02\x03", 1))  # far too short for a handshake response
        reply = read_packet(s)
        check("malformed handshake response gets an ERR packet", reply is not None and reply[0] == 0xFF,
              f"reply {reply!r}")
        check("... with error 1835", reply is not None and struct.unpack("<H", reply[1:3])[0] == 1835)
        s.close()
        check("served after a malformed packet", still_serves(port))

        # Before authentication a packet may not exceed 64 KiB: nobody anonymous gets to make
        # the server buffer megabytes.
        s = raw_connect(port)
        read_packet(s)
        try:
            s.sendall(packet(b"\x00" * (100 * 1024), 1))
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_packet(s)
        code = struct.unpack("<H", reply[1:3])[0] if reply and reply[0] == 0xFF else None
        check("oversized handshake response gets error 1153", code == 1153, f"reply {reply[:40] if reply else None!r}")
        s.close()

        s = raw_connect(port)
        read_packet(s)
        s.sendall(packet(b"\x00" * 10, 7))  # wrong sequence id
        reply = read_packet(s)
        check("out-of-order packet gets an ERR packet", reply is not None and reply[0] == 0xFF, f"reply {reply!r}")
        s.close()

        s = raw_connect(port)
        read_packet(s)
        s.sendall(packet(b"\x05" * 100, 1)[:50])  # half a packet, then gone
        s.close()
        check("served after a client vanished mid-packet", still_serves(port))

        # An authenticated client sends a query over max_allowed_packet (64 MiB): four full
        # 16 MiB pieces and the header of a fifth.
        c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
        sock = c._sock
        piece = b"\x03" + b"x" * (0xFFFFFF - 1)
        try:
            for seq in range(4):
                sock.sendall(packet(piece if seq == 0 else b"x" * 0xFFFFFF, seq))
            sock.sendall(packet(b"x" * 100, 4))
            reply = read_packet(sock)
            code = struct.unpack("<H", reply[1:3])[0] if reply else None
            check("oversized packet gets error 1153", code == 1153, f"reply starts {reply[:40] if reply else None!r}")
        except (BrokenPipeError, ConnectionResetError) as e:
            check("oversized packet gets error 1153", False, f"connection dropped without the error: {e}")
        sock.close()
        check("served after an oversized packet", still_serves(port))

        code = server.stop()
        check("clean exit after all that", code == 0, f"exit code {code}")

        # A second server with a small connection limit and a 1 s handshake deadline.
        limited = TvServer(binary, os.path.join(work, "data2"), os.path.join(work, "server2.log"),
                           ["--set", "qe_max_connection=3", "--set", "connect_timeout=1"])
        limited.start()
        held = [raw_connect(limited.mysql_port) for _ in range(3)]
        check("connections within the limit get a handshake", all(read_packet(s)[0] == 10 for s in held))
        extra = raw_connect(limited.mysql_port)
        reply = read_packet(extra)
        check("one over the limit gets error 1040", reply is not None and reply[0] == 0xFF and
              struct.unpack("<H", reply[1:3])[0] == 1040 and b"Too many connections" in reply, f"reply {reply!r}")
        extra.close()
        t0 = time.time()
        closed = [read_packet(s) is None for s in held]
        check("silent clients are disconnected after connect_timeout", all(closed) and time.time() - t0 < 10,
              f"closed {closed} after {time.time() - t0:.1f} s")
        for s in held:
            s.close()
        check("served again once they are gone", still_serves(limited.mysql_port))
        code = limited.stop()
        check("limited server exits cleanly", code == 0 and not limited.sanitizer_reports(), f"exit code {code}")
        reports = server.sanitizer_reports()
        check("no sanitizer reports", not reports, "\n    ".join(reports[:10]))
    except Exception as e:
        check("test ran to the end", False, repr(e))
    finally:
        if server.process:
            server.stop()
        if failed:
            print(open(server.log_path).read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
