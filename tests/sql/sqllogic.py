#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SQL logic test runner: runs a .test file over the MySQL protocol (PyMySQL) against a real
# tabletvault server it starts on a fresh data directory.
#
# File format (one record per blank-line-separated block; '#' lines are comments):
#   statement ok                      the SQL must succeed
#   statement error [ERRNO] [TEXT]    the SQL must fail with that MySQL error number and a message
#                                     containing TEXT (both optional; TEXT is matched literally)
#   query [rowsort|nosort] [eventually] [header]
#                                     the SQL's rows must equal those after '----' (with
#                                     "eventually": within 30 s, asked again until they do, for
#                                     scheduled work such as MV refreshes), one row per
#                                     line, columns separated by tabs, SQL NULL written as NULL;
#                                     a cell may span lines (SHOW CREATE TABLE): rows are compared
#                                     as one text
#                                     a cell written $name takes the value got there and must equal
#                                     it wherever $name appears later; !$name must differ from it
#                                     (CHECKSUM TABLE results compared across tables); values are
#                                     bound only when the whole result matches (so "eventually"
#                                     binds the final values), and a bound $name in later SQL is
#                                     replaced by its value (a snapshot's timestamp in RESTORE)
#                                     a cell written <REGEX>:pattern must match the pattern whole
#                                     (values that vary from run to run: ports, times, sizes)
#                                     with "header", the first line after ---- is the result's
#                                     column names, tab-separated (never sorted with the rows)
#   Values are compared as the server's text (no client-side conversion of numbers or dates).
#   {TEMP_DIR} in SQL and expected rows is a fresh directory of the run's own (repository
#   locations), removed with it.
#   connect NAME USER [PASSWORD] [DB] opens connection NAME (later records run on it)
#   connection NAME                   switches to an open connection ("default" is root's)
#   sleep MS                          waits MS milliseconds (scheduled work such as MV refreshes)
#   restart [kill]                    stops the server (SIGTERM, or SIGKILL with "kill") and starts
#                                     it again on the same data directory; only the default
#                                     connection reopens, and it becomes the current one
# Output: one "ok"/"not ok" line per record and a closing "N passed, N failed" line.
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pymysql


class Server:
    def __init__(self, binary, data_dir, extra_args):
        self.binary = binary
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.process = None
        self.port = None
        self.log_path = os.path.join(os.path.dirname(data_dir), "server.log")

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--set", "bind_address=127.0.0.1",
             "--set", "query_port=0", "--set", "http_port=0"] + self.extra_args,
            stdout=log, stderr=log)
        deadline = time.time() + 20
        pattern = re.compile(r"mysql: listening on 127\.0\.0\.1:(\d+)")
        while time.time() < deadline:
            with open(self.log_path) as f:
                ports = pattern.findall(f.read())
            if ports and len(ports) >= self.starts + 1:
                self.port = int(ports[-1])
                self.starts += 1
                return
            if self.process.poll() is not None:
                raise RuntimeError("server exited during start-up:\n" + open(self.log_path).read())
            time.sleep(0.05)
        raise RuntimeError("server did not start within 20 s:\n" + open(self.log_path).read())

    starts = 0

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None


def connect(port, user="root", password="", db=None):
    return pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=db,
                           autocommit=True, client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS, conv={})


def parse_records(text):
    records = []
    block = []
    start_line = 0
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if line.startswith("#") and not block:
            continue
        if line.strip() == "":
            if block:
                records.append((start_line, block))
                block = []
            continue
        if not block:
            start_line = number
        block.append(line)
    return records


def format_cell(value):
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


BINDINGS = {}


def compare_with_bindings(got, expected, sort):
    if sort:
        got, expected = sorted(got), sorted(expected)
    if len(got) != len(expected):
        return f"got {len(got)} rows, wanted {len(expected)}:\n      " + "\n      ".join(got)
    pending = {}
    for got_row, want_row in zip(got, expected):
        got_cells, want_cells = got_row.split("\t"), want_row.split("\t")
        if len(got_cells) != len(want_cells):
            return f"row '{got_row}' has {len(got_cells)} cells, wanted {len(want_cells)}"
        for value, want in zip(got_cells, want_cells):
            if want.startswith("!$"):
                if BINDINGS.get(want[2:], pending.get(want[2:])) == value:
                    return f"value {value} equals {want[1:]}, wanted a different one"
            elif want.startswith("<REGEX>:"):
                if not re.fullmatch(want[len("<REGEX>:"):], value):
                    return f"value '{value}' does not match {want} in row '{got_row}'"
            elif want.startswith("$"):
                bound = BINDINGS.get(want[1:], pending.setdefault(want[1:], value))
                if bound != value:
                    return f"value {value} differs from {want} = {bound}"
            elif value != want:
                return f"row '{got_row}' differs from '{want_row}'"
    BINDINGS.update(pending)
    return None


def substitute_bindings(sql):
    """Bound $names in SQL text replaced by their values, longest names first."""
    for name in sorted(BINDINGS, key=len, reverse=True):
        sql = sql.replace("$" + name, BINDINGS[name])
    return sql


def run_record(conns, current, server, header, body):
    words = header.split()
    kind = words[0]
    if kind == "statement":
        sql = substitute_bindings("\n".join(body))
        expect_ok = words[1] == "ok"
        try:
            with conns[current].cursor() as cur:
                cur.execute(sql)
                while cur.nextset():
                    pass
        except pymysql.MySQLError as e:
            if expect_ok:
                return f"statement failed: {e.args}"
            code, message = e.args[0], e.args[1] if len(e.args) > 1 else ""
            rest = header.split(None, 2)[2] if len(words) > 2 else ""
            m = re.match(r"(\d+)\s*(.*)", rest)
            want_code, want_text = (int(m.group(1)), m.group(2)) if m else (None, rest)
            if want_code is not None and code != want_code:
                return f"error {code} '{message}', wanted error {want_code} '{want_text}'"
            if want_text and want_text not in message:
                return f"error message '{message}' does not contain '{want_text}'"
            return None
        return None if expect_ok else "statement succeeded, wanted an error"
    if kind == "query" and "eventually" in words[1:]:
        deadline = time.time() + 30
        while True:
            plain = " ".join(w for w in words if w != "eventually")
            failure = run_record(conns, current, server, plain, body)
            if failure is None or time.time() > deadline:
                return failure
            time.sleep(0.1)
    if kind == "query":
        sort = "rowsort" in words[1:]
        if "----" not in body:
            return "query record without ----"
        split = body.index("----")
        sql = substitute_bindings("\n".join(body[:split]))
        expected = body[split + 1:]
        try:
            with conns[current].cursor() as cur:
                cur.execute(sql)
                rows = cur.fetchall() or ()
                names = "\t".join(d[0] for d in cur.description or ())
        except pymysql.MySQLError as e:
            return f"query failed: {e.args}"
        got = ["\t".join(format_cell(v) for v in row) for row in rows]
        if "header" in words[1:]:
            if not expected or expected[0] != names:
                return f"columns differ\n    got:\n      {names}\n    wanted:\n      " + \
                    (expected[0] if expected else "")
            expected = expected[1:]
        if any("$" in line or "<REGEX>:" in line for line in expected):
            return compare_with_bindings(got, expected, sort)
        if sort:
            got, expected = sorted(got), sorted(expected)
        # Joined, so that a cell holding several lines (SHOW CREATE TABLE) compares too.
        if "\n".join(got) != "\n".join(expected):
            return "rows differ\n    got:\n      " + "\n      ".join(got) + \
                   "\n    wanted:\n      " + "\n      ".join(expected)
        return None
    if kind == "sleep":
        time.sleep(int(words[1]) / 1000)
        return None
    return f"unknown record '{header}'"


def main():
    if len(sys.argv) < 3:
        print("usage: sqllogic.py TABLETVAULT_BINARY FILE.test [server args...]", file=sys.stderr)
        return 2
    binary, path, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    work = tempfile.mkdtemp(prefix="tv-sqllogic-")
    server = Server(binary, os.path.join(work, "data"), extra)
    passed = failed = 0
    try:
        server.start()
        conns = {"default": connect(server.port)}
        credentials = {"default": ("root", "", None)}
        current = "default"
        temp_dir = os.path.join(work, "tmp")
        os.mkdir(temp_dir)
        with open(path) as f:
            records = parse_records(f.read().replace("{TEMP_DIR}", temp_dir))
        for line, block in records:
            header, body = block[0], block[1:]
            words = header.split()
            error = None
            try:
                if words[0] == "connect":
                    name, user = words[1], words[2]
                    password = words[3] if len(words) > 3 else ""
                    db = words[4] if len(words) > 4 else None
                    conns[name] = connect(server.port, user, password, db)
                    credentials[name] = (user, password, db)
                    current = name
                elif words[0] == "connection":
                    current = words[1]
                elif words[0] == "restart":
                    for c in conns.values():
                        c.close()
                    server.stop(signal.SIGKILL if "kill" in words else signal.SIGTERM)
                    server.start()
                    conns = {"default": connect(server.port, *credentials["default"])}
                    current = "default"
                else:
                    error = run_record(conns, current, server, header, body)
            except Exception as e:  # a connection that fails is a failed record, not a crash
                error = f"{type(e).__name__}: {e}"
            label = f"{os.path.basename(path)}:{line}: {header}"
            if error:
                failed += 1
                print(f"not ok - {label}\n    " + "\n".join(body) + f"\n    {error}")
            else:
                passed += 1
                print(f"ok - {label}")
    except Exception as e:
        failed += 1
        print(f"not ok - {path}: {e}")
    finally:
        server.stop()
        if failed:
            print("--- server log ---")
            print(open(server.log_path).read()[-5000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
