#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The HTTP port against careless and hostile clients, over raw sockets and curl: huge bad fields
# echoed as short excerpts; header, idle and body timeouts; the connection cap; HEAD without a
# body; bad chunks, huge URLs, unknown Expect and Transfer-Encoding refused; and what already
# held up (401 without credentials, no grant, 413 for big heads and bodies, 400 for a bad
# Content-Length, a refused Stream Load reading no body) kept.
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from tap import FAILURES, check  # noqa: E402

HEADER_TIMEOUT = 2
IDLE_TIMEOUT = 3
MAX_CONNECTIONS = 40
ROOT_AUTH = "Authorization: Basic cm9vdDo=\r\n"  # root, empty password


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    return s


def read_until_closed(s):
    """Everything the server sends until it closes (or 10 s pass, or it resets)."""
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def exchange(port, data, timeout=10):
    """Sends `data` (as much as the server takes) and returns everything it answers."""
    s = connect(port, timeout)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server refused early; its answer may still be readable
    answer = read_until_closed(s)
    s.close()
    return answer


def status_of(answer):
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def closed_within(s, seconds):
    """Seconds until the server closed `s` without sending anything, or None if it did not."""
    started = time.time()
    s.settimeout(seconds)
    try:
        data = s.recv(65536)
    except socket.timeout:
        return None
    except ConnectionResetError:
        data = b""
    return time.time() - started if data == b"" else None


def stream_load_curl(port, table, path, headers=(), user="root:"):
    args = ["curl", "-sS", "--location-trusted", "-u", user, "-T", path, "-H", "column_separator:,"]
    for h in headers:
        args += ["-H", h]
    args += ["-w", "\n%{http_code}", f"http://127.0.0.1:{port}/api/hh/{table}/_stream_load"]
    started = time.time()
    out = subprocess.run(args, capture_output=True, timeout=300)
    elapsed = time.time() - started
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code), body, elapsed


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def huge_bad_fields(server, conn, work):
    for mb in (8, 32):
        path = os.path.join(work, f"bad{mb}.csv")
        with open(path, "wb") as f:
            f.write(b"1,\x1b[31m" + b"x" * (mb << 20) + b"\n2,7\n")
        code, body, elapsed = stream_load_curl(server.http_port, "t", path, [f"label:bad{mb}"])
        print(f"# a {mb} MiB bad field: answered in {elapsed:.2f} s, {len(body)} bytes")
        r = json.loads(body) if body.strip() else {}
        message = r.get("Message", "")
        check(code == 200 and r.get("Status") == "Fail" and r.get("NumberFilteredRows") == 1
              and r.get("NumberTotalRows") == 2, f"a {mb} MiB bad field is a filtered row: {code} {message[:300]}")
        check(len(body) < 4096, f"the answer to a {mb} MiB bad field is small: {len(body)} bytes")
        check(f"({(mb << 20) + 5} bytes)" in message and "\\x1B[31mxxx" in message and "\x1b" not in message,
              f"it quotes an excerpt, says the value's size and escapes control bytes: {message[:400]}")
    check(query(conn, "SELECT COUNT(*) FROM hh.t")[0][0] == 0, "nothing was loaded")
    # A too-long VARCHAR value goes through the same error path ("Data too long").
    path = os.path.join(work, "long.csv")
    with open(path, "wb") as f:
        f.write(b"1,2," + b"y" * (8 << 20) + b"\n")
    code, body, _ = stream_load_curl(server.http_port, "w", path, ["label:long"])
    r = json.loads(body) if body.strip() else {}
    check(len(body) < 4096 and "Data too long" in r.get("Message", "") and f"({8 << 20} bytes)" in r.get("Message", ""),
          f"a too-long VARCHAR value is quoted as an excerpt: {len(body)} bytes {r.get('Message', '')[:300]}")


def timeouts(server):
    s = connect(server.http_port)
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")  # the head never ends
    waited = closed_within(s, HEADER_TIMEOUT + 8)
    s.close()
    check(waited is not None and waited >= HEADER_TIMEOUT - 0.5,
          f"a half-sent head is dropped after http_header_timeout_seconds ({HEADER_TIMEOUT} s): {waited}")

    s = connect(server.http_port)
    waited = closed_within(s, HEADER_TIMEOUT + 8)
    s.close()
    check(waited is not None, f"so is a connection that sends nothing: {waited}")

    # Byte by byte, each within the idle timeout: the head's total time still counts.
    s = connect(server.http_port)
    started = time.time()
    dropped = False
    try:
        for byte in b"GET /api/health HTTP/1.1\r\nX-Slow: " + b"a" * 100:
            s.sendall(bytes([byte]))
            time.sleep(0.1)
            if time.time() - started > HEADER_TIMEOUT + 8:
                break
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
    if not dropped:
        dropped = closed_within(s, 2) is not None
    s.close()
    check(dropped and time.time() - started < HEADER_TIMEOUT + 8,
          f"a head trickled a byte at a time is dropped at the header timeout: {time.time() - started:.1f} s")

    s = connect(server.http_port)
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = s.recv(65536)
    check(status_of(first) == 200, f"a keep-alive request is answered: {first[:40]}")
    time.sleep(IDLE_TIMEOUT - 1.5)
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    second = s.recv(65536)
    check(status_of(second) == 200, "a second request within the idle timeout is answered")
    waited = closed_within(s, IDLE_TIMEOUT + 8)
    s.close()
    check(waited is not None and waited >= IDLE_TIMEOUT - 0.5,
          f"an idle keep-alive connection is closed after http_idle_timeout_seconds ({IDLE_TIMEOUT} s): {waited}")

    s = connect(server.http_port)
    s.sendall(b"PUT /api/hh/t/_stream_load HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
              b"column_separator: ,\r\nlabel: stalled\r\nContent-Length: 1000\r\n\r\n100,1\n")
    waited = closed_within(s, IDLE_TIMEOUT + 8)
    s.close()
    check(waited is not None, f"a Stream Load whose body stalls is dropped after the idle timeout: {waited}")


def connection_cap(server):
    held = []
    for _ in range(MAX_CONNECTIONS):
        s = connect(server.http_port)
        s.sendall(b"GET /api/health HTTP/1.1\r\n")
        held.append(s)
    time.sleep(0.3)
    extra = exchange(server.http_port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(status_of(extra) == 503 and b"http_max_connections" in extra,
          f"past http_max_connections ({MAX_CONNECTIONS}) a connection is answered 503: {extra[:80]}")
    for s in held:
        s.close()
    deadline = time.time() + 5
    again = b""
    while time.time() < deadline:
        again = exchange(server.http_port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if status_of(again) == 200:
            break
        time.sleep(0.1)
    check(status_of(again) == 200, f"once they close, connections are accepted again: {again[:40]}")


def protocol_edges(server):
    port = server.http_port
    get = exchange(port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head_then_get = exchange(port, b"HEAD /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
                                   b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head_part, _, rest = head_then_get.partition(b"\r\n\r\n")
    get_head, _, get_body = get.partition(b"\r\n\r\n")
    check(status_of(head_then_get) == 200 and rest.startswith(b"HTTP/1.1 200") and rest.endswith(get_body)
          and f"Content-Length: {len(get_body)}".encode() in head_part,
          f"HEAD answers the GET's headers and no body: {head_then_get[:300]}")

    bad_chunk = exchange(port, b"POST /api/update_config?log_level=info HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
                         b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    check(status_of(bad_chunk) == 400, f"a bad chunk answers 400: {bad_chunk[:80]}")
    bad_chunk = exchange(port, b"PUT /api/hh/t/_stream_load HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
                         b"column_separator: ,\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n50,5\n\r\nnot-hex\r\n")
    check(status_of(bad_chunk) == 400 and b'"Status": "Fail"' in bad_chunk,
          f"a Stream Load with a bad chunk answers 400: {bad_chunk[:200]}")

    long_url = exchange(port, b"GET /api/health?" + b"a" * (2 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(status_of(long_url) == 414, f"a 2 MiB URL answers 414 (URI Too Long): {long_url[:80]}")

    expect = exchange(port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n")
    check(status_of(expect) == 417, f"an unknown Expect answers 417: {expect[:80]}")
    expect = exchange(port, b"PUT /api/hh/t/_stream_load HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
                      b"column_separator: ,\r\nExpect: 101-nope\r\nContent-Length: 5\r\n\r\n60,6\n")
    check(status_of(expect) == 417, f"also on Stream Load: {expect[:80]}")

    for encoding in (b"gzip, chunked", b"chunked, chunked", b"gzip"):
        refused = exchange(port, b"PUT /api/hh/t/_stream_load HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
                           b"column_separator: ,\r\nTransfer-Encoding: " + encoding + b"\r\n\r\n5\r\n70,7\n\r\n0\r\n\r\n")
        check(status_of(refused) in (400, 501), f"Transfer-Encoding: {encoding.decode()} is refused: {refused[:80]}")


def held_up(server, conn):
    port = server.http_port
    anonymous = exchange(port, b"PUT /api/hh/t/_stream_load HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                               b"Connection: close\r\n\r\n80,8\n")
    check(status_of(anonymous) == 401 and b"WWW-Authenticate: Basic" in anonymous,
          f"Stream Load without credentials answers 401: {anonymous[:120]}")
    query(conn, "CREATE USER 'nogrant' IDENTIFIED BY 'pw'")
    code, body, _ = stream_load_curl(port, "t", os.devnull, ["label:nogrant"], user="nogrant:pw")
    check(b"INSERT privilege" in body, f"and without a grant it is refused: {code} {body[:200]}")

    big_head = exchange(port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (100 << 10) + b"\r\n\r\n")
    check(status_of(big_head) == 413, f"an oversized header answers 413: {big_head[:80]}")
    big_body = exchange(port, b"POST /api/update_config?log_level=info HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
                        b"Content-Length: 2097152\r\n\r\n" + b"z" * (2 << 20))
    check(status_of(big_body) == 413, f"an oversized body answers 413: {big_body[:80]}")
    bad_length = exchange(port, b"POST /api/update_config HTTP/1.1\r\nHost: x\r\n" + ROOT_AUTH.encode() +
                          b"Content-Length: 12abc\r\n\r\n")
    check(status_of(bad_length) == 400, f"a bad Content-Length answers 400: {bad_length[:80]}")

    # A refused load answers at once, before any body byte is sent (no Expect: 100-continue).
    s = connect(port, 5)
    s.sendall(b"PUT /api/hh/t/_stream_load HTTP/1.1\r\nHost: x\r\nAuthorization: Basic bm9ib2R5Og==\r\n"
              b"Content-Length: 10000000000\r\n\r\n")
    try:
        answer = s.recv(65536)
    except socket.timeout:
        answer = b""
    s.close()
    check(status_of(answer) == 401, f"a refused Stream Load answers without reading its body: {answer[:80]}")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-http-hardening-")
    server = TvServer(binary, os.path.join(work, "data"), os.path.join(work, "server.log"),
                      ["--set", f"http_header_timeout_seconds={HEADER_TIMEOUT}",
                       "--set", f"http_idle_timeout_seconds={IDLE_TIMEOUT}",
                       "--set", f"http_max_connections={MAX_CONNECTIONS}"])
    try:
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)
        query(conn, "CREATE DATABASE hh")
        query(conn, "CREATE TABLE hh.t (id INT NOT NULL, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
        query(conn, "CREATE TABLE hh.w (id INT NOT NULL, v INT, s VARCHAR(8)) DUPLICATE KEY(id) "
                    "DISTRIBUTED BY HASH(id) BUCKETS 1")
        huge_bad_fields(server, conn, work)
        connection_cap(server)
        timeouts(server)
        protocol_edges(server)
        held_up(server, conn)
        check(query(conn, "SELECT COUNT(*) FROM hh.t")[0][0] == 0, "no refused or broken request loaded a row")
        health = exchange(server.http_port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(status_of(health) == 200, "the server still answers")

        reports = server.sanitizer_reports()
        check(not reports, "no sanitizer reports: " + "; ".join(reports[:3]))
        check(server.stop() == 0, "clean shutdown")
    finally:
        if server.process is not None:
            server.stop(timeout=10)
        if FAILURES:
            print(open(os.path.join(work, "server.log"), errors="replace").read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
