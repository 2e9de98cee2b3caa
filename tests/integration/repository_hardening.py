#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# What a db_admin can make the server do through CREATE REPOSITORY, against a real server and
# tiny socket listeners of its own: CR/LF in a property value never reaches a listener (no
# smuggled second request), every transport failure (a closed port, an HTML 404 page, a non-HTTP
# banner, an STS endpoint that is not STS) reads the same "could not reach endpoint E:
# connection failed" and echoes no body, and local locations are resolved and confined: no
# '..', not the data directory (or anything inside or around it), no symlink out of
# local_repository_roots, and a start-up warning as root when no roots are set.
import os
import socket
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from tap import FAILURES, check  # noqa: E402


def error_of(conn, sql):
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    except pymysql.MySQLError as e:
        return e.args[0], e.args[1]
    return None


class Listener:
    """A TCP listener on 127.0.0.1 that records every byte it receives and answers each
    connection with `answer` (bytes, possibly empty) before closing it."""

    def __init__(self, answer=b""):
        self.answer = answer
        self.received = b""
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(0.5)
            try:
                data = conn.recv(65536)
                self.received += data
                if self.answer:
                    conn.sendall(self.answer)
                # Read what else comes (a smuggled second request would be here).
                while True:
                    more = conn.recv(65536)
                    if not more:
                        break
                    self.received += more
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def props(**pairs):
    return ", ".join(f'"{k}" = "{v}"' for k, v in pairs.items())


KEYS = {"aws.s3.access_key": "AKIAEXAMPLE", "aws.s3.secret_key": "topsecret", "aws.s3.region": "us-east-1"}


def s3_props(endpoint, **more):
    return props(**{**KEYS, "aws.s3.endpoint": endpoint, **more})


def header_injection(conn):
    listener = Listener(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    try:
        endpoint = f"http://127.0.0.1:{listener.port}"
        smuggled = "\r\n\r\nDELETE /victim/everything HTTP/1.1\r\nHost: internal\r\n\r\n"
        for name in ("aws.s3.session_token", "aws.s3.access_key", "aws.s3.secret_key", "aws.s3.region",
                     "aws.s3.endpoint"):
            values = {**KEYS, "aws.s3.endpoint": endpoint, "aws.s3.session_token": "token"}
            values[name] = values[name] + smuggled
            err = error_of(conn, f'CREATE REPOSITORY inj WITH BROKER ON LOCATION "s3://bucket/p" '
                                 f'PROPERTIES ({props(**values)})')
            check(err is not None and err[0] == 1064 and f"'{name}'" in err[1] and "control character" in err[1]
                  and "victim" not in err[1],
                  f"CR/LF in {name} is refused (1064) naming the property: {err}")
        for name, value in (("aws.s3.session_token", "tok\x00en"), ("aws.s3.access_key", "AKIA\x7f"),
                            ("aws.s3.session_token", "tok\ten")):
            values = {**KEYS, "aws.s3.endpoint": endpoint, "aws.s3.session_token": "token", name: value}
            err = error_of(conn, f'CREATE REPOSITORY inj WITH BROKER ON LOCATION "s3://bucket/p" '
                                 f'PROPERTIES ({props(**values)})')
            check(err is not None and err[0] == 1064 and f"'{name}'" in err[1],
                  f"control character {value!r} in {name} is refused: {err}")
        err = error_of(conn, f'CREATE REPOSITORY inj WITH BROKER ON LOCATION "s3://bucket/p\r\nX: y" '
                             f'PROPERTIES ({s3_props(endpoint)})')
        check(err is not None and err[0] == 1064 and "control character" in err[1],
              f"CR/LF in the location is refused: {err}")
        time.sleep(0.5)
        check(listener.connections == 0 and b"DELETE" not in listener.received,
              f"the listener got no request at all: {listener.connections} connections, {listener.received[:200]!r}")
    finally:
        listener.close()


def port_oracle(conn):
    body = b"<html><Message>internal-page-secret</Message><Code>x</Code></html>"
    html_404 = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n" + body)
    banner = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
    page = b"<html>internal dashboard</html>"
    ok_page = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + str(len(page)).encode()
               + b"\r\nConnection: close\r\n\r\n" + page)
    listeners = {"an HTML 404 page": Listener(html_404), "an SSH banner": Listener(banner),
                 "a server that closes at once": Listener(b""), "a server that answers 200 to anything":
                 Listener(ok_page)}
    try:
        targets = {what: l.port for what, l in listeners.items()}
        targets["a closed port"] = closed_port()
        messages = {}
        for what, port in targets.items():
            endpoint = f"http://127.0.0.1:{port}"
            err = error_of(conn, f'CREATE REPOSITORY probe WITH BROKER ON LOCATION "s3://bucket/p" '
                                 f'PROPERTIES ({s3_props(endpoint)})')
            want = f"Failed to create repository: could not reach endpoint {endpoint}: connection failed"
            check(err == (1105, want), f"S3 endpoint at {what}: {err}, wanted (1105, {want!r})")
            messages[what] = err
        # STS pointed at a page that is not STS: its body is not echoed either.
        sts = listeners["an HTML 404 page"]
        role = props(**{**KEYS, "aws.s3.endpoint": f"http://127.0.0.1:{closed_port()}",
                        "aws.s3.iam_role_arn": "arn:aws:iam::123456789012:role/tv",
                        "aws.s3.sts_endpoint": f"127.0.0.1:{sts.port}"})
        err = error_of(conn, f'CREATE REPOSITORY probe WITH BROKER ON LOCATION "s3://bucket/p" PROPERTIES ({role})')
        want = f"Failed to create repository: could not reach endpoint 127.0.0.1:{sts.port}: connection failed"
        check(err == (1105, want), f"an STS endpoint that is not STS: no body, no status: {err}, wanted {want!r}")
        role_closed = role.replace(f"127.0.0.1:{sts.port}", f"127.0.0.1:{targets['a closed port']}")
        err_closed = error_of(conn, f'CREATE REPOSITORY probe WITH BROKER ON LOCATION "s3://bucket/p" '
                                    f'PROPERTIES ({role_closed})')
        check(err is not None and err_closed is not None and
              err[1].replace(str(sts.port), "P") == err_closed[1].replace(str(targets["a closed port"]), "P"),
              f"an STS endpoint on a closed port reads the same: {err_closed}")
    finally:
        for listener in listeners.values():
            listener.close()


def local_locations(binary, work):
    data = os.path.join(work, "data")
    allowed = os.path.join(work, "allowed")
    outside = os.path.join(work, "outside")
    for d in (allowed, outside):
        os.makedirs(d)
    os.symlink(outside, os.path.join(allowed, "link"))
    os.symlink(data, os.path.join(allowed, "to-data"))

    # No roots: anywhere but the data directory; as root, a warning says so at start-up.
    log = os.path.join(work, "open.log")
    server = TvServer(binary, data, log)
    server.start()
    try:
        warned = "running as root with local_repository_roots empty" in open(log).read()
        check(warned == (os.geteuid() == 0), f"the start-up warning appears exactly when running as root "
                                             f"(euid {os.geteuid()}): {warned}")
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", password="", autocommit=True)
        cases = [
            (f"{data}", "is inside the server's data directory"),
            (f"file://{data}/storage/x", "is inside the server's data directory"),
            (f"{work}", "contains the server's data directory"),
            (f"{allowed}/to-data/sub", "is inside the server's data directory"),
            (f"{allowed}/../outside", "'..' segments are not allowed"),
            (f"file://{allowed}/a/../b", "'..' segments are not allowed"),
        ]
        for location, want in cases:
            err = error_of(conn, f'CREATE REPOSITORY loc WITH BROKER ON LOCATION "{location}"')
            check(err is not None and err[0] == 1064 and want in err[1], f"{location}: {want}: {err}")
        check(not os.path.exists(os.path.join(data, "__tabletvault_repository_loc")) and
              not os.path.exists(os.path.join(work, "__tabletvault_repository_loc")) and
              not os.path.exists(os.path.join(outside, "__tabletvault_repository_loc")),
              "nothing refused created a directory")
        check(error_of(conn, f'CREATE REPOSITORY ok1 WITH BROKER ON LOCATION "{outside}//x/./y/"') is None,
              "anywhere else is fine without roots ('//' and '.' normalized)")
        conn.close()
    finally:
        server.stop()

    # With roots: only inside them, after symlinks are resolved.
    log = os.path.join(work, "roots.log")
    server = TvServer(binary, data, log, extra=["--set", f"local_repository_roots= {allowed} ,{work}/second"])
    server.start()
    try:
        check("running as root with local_repository_roots empty" not in open(log).read(),
              "no warning when roots are set")
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", password="", autocommit=True)
        err = error_of(conn, f'CREATE REPOSITORY r WITH BROKER ON LOCATION "{outside}/r"')
        want = (f"Repository location '{outside}/r' is outside the directories local repositories may use "
                f"(local_repository_roots: {allowed}, {work}/second)")
        check(err == (1064, want), f"outside the roots: {err}, wanted {want!r}")
        err = error_of(conn, f'CREATE REPOSITORY r WITH BROKER ON LOCATION "file://{allowed}/link/r"')
        check(err is not None and err[0] == 1064 and f"(resolved to {outside}/r)" in err[1] and
              "is outside the directories" in err[1], f"a symlink out of the roots: {err}")
        check(not os.path.exists(os.path.join(outside, "r")), "the symlink's target got no directory")
        check(error_of(conn, f'CREATE REPOSITORY r WITH BROKER ON LOCATION "{allowed}/r"') is None,
              "inside a root is fine")
        check(os.path.isdir(os.path.join(allowed, "r", "__tabletvault_repository_r")), "and was created there")
        check(error_of(conn, f'CREATE REPOSITORY r2 WITH BROKER ON LOCATION "file://{work}/second"') is None,
              "a root itself is fine (and may not exist yet)")
        conn.close()
    finally:
        server.stop()

    # A data directory reached through a symlink: the real directory is what is compared, so
    # neither the real path nor a second link to it (nor a directory around it) is accepted.
    real_data = os.path.join(work, "real-data")
    os.makedirs(real_data)
    linked_data = os.path.join(work, "linked-data")
    os.symlink(real_data, linked_data)
    os.symlink(real_data, os.path.join(outside, "other-link"))
    log = os.path.join(work, "linked.log")
    server = TvServer(binary, linked_data, log)
    server.start()
    try:
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", password="", autocommit=True)
        cases = [
            (f"{real_data}/repo", "is inside the server's data directory"),
            (f"file://{linked_data}/repo", "is inside the server's data directory"),
            (f"{outside}/other-link/repo", "is inside the server's data directory"),
            (f"{work}", "contains the server's data directory"),
        ]
        for location, want in cases:
            err = error_of(conn, f'CREATE REPOSITORY loc WITH BROKER ON LOCATION "{location}"')
            check(err is not None and err[0] == 1064 and want in err[1] and real_data in err[1],
                  f"data dir through a symlink, {location}: {want}, naming {real_data}: {err}")
        check(not os.path.exists(os.path.join(real_data, "repo")), "no refused location got a directory")
        conn.close()
    finally:
        server.stop()

    # A bad list refuses start-up, naming the entry.
    log = os.path.join(work, "bad.log")
    bad = TvServer(binary, data, log, extra=["--set", "local_repository_roots=relative/dir"])
    try:
        bad.start()
        check(False, "a relative root refuses start-up")
        bad.stop()
    except RuntimeError:
        text = open(log).read()
        check("local_repository_roots entry 'relative/dir'" in text and "absolute" in text,
              f"a relative root refuses start-up, naming it: {text[-300:]}")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-repo-hardening-")
    server = TvServer(binary, os.path.join(work, "d1"), os.path.join(work, "server.log"))
    server.start()
    try:
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", password="", autocommit=True)
        header_injection(conn)
        port_oracle(conn)
        conn.close()
        text = open(server.log_path).read()
        check("could not reach endpoint" in text, "the log keeps the detail of transport failures")
        check("topsecret" not in text, "no secret in the log")
    finally:
        server.stop()
        for line in server.sanitizer_reports():
            check(False, f"sanitizer: {line}")
    os.mkdir(os.path.join(work, "local"))
    local_locations(binary, os.path.join(work, "local"))
    if FAILURES:
        print(f"{len(FAILURES)} failed: {FAILURES}")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
