#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# What users type cannot forge log entries or flood error messages: a user name holding "\n"
# (or "\r", or an ANSI escape) stays one escaped log line; names that are not UTF-8, or 10 MB
# long, or full of control bytes, are refused with capped, escaped messages; and a catalog
# property over 64 KiB is refused. Things a .test file cannot hold (raw bytes, 10 MB names)
# live here; tests/sql/privileges.test has the rest.
import os
import shutil
import sys
import tempfile

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


def error_of(conn, sql):
    """(errno, message) of a statement that must fail, or (None, None) when it succeeded."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    except pymysql.MySQLError as e:
        return e.args[0], e.args[1] if len(e.args) > 1 else ""
    return None, None


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-names-")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, os.path.join(work, "data"), log_path)
    try:
        server.start()
        port = server.mysql_port

        # ---- Log forging: the failed login is logged with the user name in it.
        forged = "2026-01-01T00:00:00.000Z INFO  [t1] FORGED ENTRY"
        for sep, shown in (("\n", "\\n"), ("\r\n", "\\r\\n"), ("\x1b[2K\r", "\\x1B[2K\\r")):
            try:
                pymysql.connect(host="127.0.0.1", port=port, user="evil" + sep + forged, password="x",
                                connect_timeout=10)
                check(f"login as a user named with {shown!r} refused", False, "it logged in")
            except pymysql.MySQLError as e:
                check(f"login as a user named with {shown!r} refused", e.args[0] == 1045, repr(e.args))
            lines = open(log_path, encoding="utf-8", errors="replace").read().split("\n")
            check(f"{shown!r} in a user name starts no log line",
                  not any(line.lstrip("\r").startswith("2026-01-01T00:00:00.000Z") or line.startswith("\r")
                          or "\r" in line for line in lines),
                  "\n".join(line for line in lines if "FORGED" in line))
            check(f"... and is logged escaped as {shown}",
                  any(("evil" + shown + forged) in line for line in lines),
                  "\n".join(line for line in lines if "FORGED" in line))
        log_text = open(log_path, "rb").read()
        check("no control byte but newline in the log", not any(b < 0x20 and b != 0x0A or b == 0x7F for b in log_text),
              repr([line for line in log_text.split(b"\n") if any(b < 0x20 or b == 0x7F for b in line)][:3]))

        root = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)

        # ---- Names that are not UTF-8: refused, echoed escaped.
        code, message = error_of(root, b"CREATE DATABASE `\xff\xfe`")
        check("a database name that is not UTF-8 is refused with 1103", code == 1103, f"{code} {message!r}")
        check("... saying why, the bytes escaped",
              message == "Incorrect database name '\\xFF\\xFE': not valid UTF-8", repr(message))
        code, message = error_of(root, "CREATE DATABASE `caf\u00e9_\u6570\u636e`")
        check("a UTF-8 name is fine", code is None, f"{code} {message!r}")
        code, message = error_of(root, "CREATE TABLE `caf\u00e9_\u6570\u636e`.`d".encode() +
                                 b"\xc3` (id INT) DISTRIBUTED BY HASH(id) BUCKETS 1")
        check("a table name cut inside a UTF-8 character is refused with 1103", code == 1103, f"{code} {message!r}")
        check("... saying why", message == "Incorrect table name 'd\\xC3': not valid UTF-8", repr(message))

        # ---- Control bytes in a name: refused, never echoed raw.
        code, message = error_of(root, "CREATE DATABASE `a\x1b[31mred\x07`")
        check("a name with control bytes is refused with 1103", code == 1103, f"{code} {message!r}")
        check("... echoed escaped", message == "Incorrect database name 'a\\x1B[31mred\\x07'", repr(message))

        # ---- A 10 MB name: refused, echoed capped.
        huge = "n" * (10 * 1024 * 1024)
        code, message = error_of(root, f"CREATE DATABASE `{huge}`")
        check("a 10 MB database name is refused with 1103", code == 1103, f"{code} {message[:200]!r}")
        check("... echoing its first 100 bytes",
              message == "Incorrect database name '" + "n" * 100 + "...': longer than 256 bytes", message[:300])
        code, message = error_of(root, f"USE `{huge}`")
        check("USE of a 10 MB name answers 1049", code == 1049, f"{code} {message[:200]!r}")
        check("... in at most 1 KiB and a '...'", message is not None and len(message.encode()) <= 1027 and
              message.endswith("..."), f"{len(message or '')} chars")
        code, message = error_of(root, f"SELECT * FROM `{huge}`.t")
        check("any error is capped centrally", message is not None and len(message.encode()) <= 1027,
              f"{code} {len(message or '')} chars")

        # ---- Catalog property values: at most 64 KiB.
        big = "v" * (64 * 1024 + 1)
        code, message = error_of(root, f'CREATE EXTERNAL CATALOG c1 PROPERTIES ("type" = "hive", "hive.x" = "{big}")')
        check("a 64 KiB + 1 catalog property is refused with 1064", code == 1064, f"{code} {message[:200]!r}")
        check("... naming it", message == "Property 'hive.x' of external catalog 'c1' is 65537 bytes; at most 65536 "
              "are allowed", repr(message[:300]))
        ok_value = "v" * (64 * 1024)
        code, message = error_of(root, f'CREATE EXTERNAL CATALOG c1 PROPERTIES ("type" = "hive", "hive.x" = "{ok_value}")')
        check("a 64 KiB catalog property is fine", code is None, f"{code} {message[:200] if message else ''!r}")
        with root.cursor() as cur:
            cur.execute("SHOW CATALOGS")
            names = [row[0] for row in cur.fetchall()]
        check("... and only the good catalog exists", names == ["default_catalog", "c1"], repr(names))

        root.close()
        code = server.stop()
        check("server exits cleanly", code == 0, f"exit code {code}")
        reports = server.sanitizer_reports()
        check("no sanitizer reports", not reports, "\n".join(reports[:20]))
    finally:
        if server.process is not None:
            server.stop()
    print(f"{passed} passed, {failed} failed")
    if failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"server log kept in {log_path}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
