#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# No query can freeze the server or keep its memory: a user without grants runs a 10^12-row
# count, and root still sees it in SHOW PROCESSLIST and ends it with KILL QUERY or KILL
# CONNECTION; query_timeout ends it with StarRocks' error; a client that hangs up (the mariadb
# client, killed) ends it; SIGTERM ends it and the server exits within seconds; query_mem_limit
# and query_pool_mem_limit fail a DISTINCT of 30 million keys with StarRocks' message, the server
# goes on and its RSS goes back near where it started; four 30 MB IN-list statements are refused
# at once without the memory their tokens would take. Last, while 8 clients run heavy queries
# and a throttled BACKUP runs, root's SELECT 1 and /api/health keep answering quickly; the p99
# figures are printed (run it with a release binary for the figures a user would see).
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, columns_of, connect, error_of, finish, query  # noqa: E402

HEAVY = "SELECT count(*) FROM TABLE(generate_series(1, 1000000000000))"
DISTINCT_30M = "SELECT count(DISTINCT generate_series) FROM TABLE(generate_series(1, 30000000))"
PROCESSLIST_COLUMNS = ["Id", "User", "Host", "Db", "Command", "ConnectionStartTime", "Time", "State", "Info",
                       "IsPending"]
# The loop-0 latency bound asserted here is loose on purpose: this runs on a debug ASan build on
# a shared 2-core machine, beside other tests (250 ms was once missed at 271 ms under a full
# ctest -j2). Before the fix, SELECT 1 did not answer at all while a query ran: the heavy
# queries here run until cancelled, so any bound well under their run time shows that.
LATENCY_BOUND_MS = 1000
# How far above its start RSS may settle after a big statement.
SETTLED_SLACK = 48 << 20


class Background:
    """A statement running on its own connection in a thread; keeps its error and duration."""

    def __init__(self, conn, sql):
        self.conn, self.sql = conn, sql
        self.error = None
        self.seconds = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.time()
        self.thread.start()

    def _run(self):
        try:
            query(self.conn, self.sql)
        except pymysql.MySQLError as e:
            self.error = (e.args[0], e.args[1] if len(e.args) > 1 else "")
        self.seconds = time.time() - self.started

    def wait(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()


def processlist(conn, full=False):
    names, rows = columns_of(conn, "SHOW FULL PROCESSLIST" if full else "SHOW PROCESSLIST")
    return names, [dict(zip(names, r)) for r in rows]


def running_row(root, info_prefix, timeout=10):
    """The PROCESSLIST row of the statement starting with `info_prefix`, once it runs."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for row in processlist(root, full=True)[1]:
            if row["Command"] == "Query" and (row["Info"] or "").startswith(info_prefix):
                return row
        time.sleep(0.05)
    return None


def gone_from_processlist(root, connection_id, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(row["Id"] != connection_id for row in processlist(root)[1]):
            return True
        time.sleep(0.05)
    return False


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def kill_query_and_processlist(server, root):
    user = connect(server, "u", "pw")
    other = connect(server, "u", "pw")
    stranger = connect(server, "w", "pw")
    heavy = Background(user, HEAVY)
    row = running_row(root, "SELECT count(*) FROM TABLE(generate_series")
    check(row is not None, "root's SHOW PROCESSLIST lists the query of user u while it runs")
    if row is None:
        return
    names, rows = processlist(root)
    check(names == PROCESSLIST_COLUMNS, f"SHOW PROCESSLIST has StarRocks' columns: {names}")
    check(row["User"] == "u" and row["Host"].startswith("127.0.0.1") and row["State"] == "OK"
          and row["IsPending"] == "false", f"the row names user, host and state: {row}")
    check(len(rows) >= 4, f"root sees every connection (its own, u's two, w's): {len(rows)} rows")
    own = processlist(other)[1]
    check(sorted(r["User"] for r in own) == ["u", "u"], f"u sees only its own two connections: {own}")
    started = time.time()
    check(query(root, "SELECT 1") == ((1,),), "root's SELECT 1 answers while the query runs")
    check(time.time() - started < 5, "and answers at once")

    check(error_of(stranger, f"KILL QUERY {row['Id']}") == (1095, f"You are not owner of thread {row['Id']}"),
          "another user may not kill u's query (1095)")
    check(error_of(root, "KILL 999999") == (1094, "Unknown thread id: 999999"), "KILL of no connection: 1094")
    check(not heavy.wait(0.5), "the query still runs after the refused KILL")

    query(root, f"KILL QUERY {row['Id']}")
    check(heavy.wait(10), "KILL QUERY ends the query within seconds")
    check(heavy.error == (1317, "Query execution was interrupted"), f"the client reads 1317: {heavy.error}")
    check(query(user, "SELECT 1") == ((1,),), "KILL QUERY keeps the connection: its next SELECT 1 answers")

    # A user may kill its own statements from another connection.
    heavy = Background(user, HEAVY)
    row = running_row(root, "SELECT count(*) FROM TABLE(generate_series")
    query(other, f"KILL QUERY {row['Id']}")
    check(heavy.wait(10) and heavy.error and heavy.error[0] == 1317, f"u kills its own query: {heavy.error}")

    # KILL CONNECTION ends the statement and closes the connection.
    heavy = Background(user, HEAVY)
    row = running_row(root, "SELECT count(*) FROM TABLE(generate_series")
    query(root, f"KILL CONNECTION {row['Id']}")
    check(heavy.wait(10) and heavy.error is not None, f"KILL CONNECTION ends the query: {heavy.error}")
    check(gone_from_processlist(root, row["Id"]), "and the connection leaves SHOW PROCESSLIST")
    try:
        query(user, "SELECT 1")
        check(False, "the killed connection is closed")
    except pymysql.MySQLError as e:
        # pymysql reports a connection it already saw close as InterfaceError (0, '').
        check(e.args[0] in (0, 2006, 2013), f"the killed connection is closed: {e.args}")

    # A killed INSERT loads nothing.
    query(root, "CREATE DATABASE kdb")
    query(root, "CREATE TABLE kdb.t (k BIGINT, v VARCHAR(8)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    loader = connect(server)
    insert = Background(loader, "INSERT INTO kdb.t SELECT generate_series, 'v' FROM TABLE(generate_series(1, 1000000000000))")
    row = running_row(root, "INSERT INTO kdb.t")
    time.sleep(1)
    query(root, f"KILL QUERY {row['Id']}")
    check(insert.wait(10) and insert.error == (1317, "Query execution was interrupted"),
          f"KILL QUERY ends an INSERT ... SELECT: {insert.error}")
    check(query(root, "SELECT count(*) FROM kdb.t") == ((0,),), "and the killed INSERT loaded nothing")

    # KILL of one's own connection answers 1317 and closes it, as MySQL does.
    own_id = query(other, "SELECT CONNECTION_ID()")[0][0]
    check(error_of(other, f"KILL {own_id}") == (1317, "Query execution was interrupted"),
          "KILL of one's own connection answers 1317")
    check(gone_from_processlist(root, own_id), "and closes it")
    for c in (stranger, loader):
        c.close()


def info_is_capped(server, root):
    conn = connect(server, "u", "pw")
    long_select = "SELECT count(*) FROM TABLE(generate_series(1, 1000000000000)) WHERE generate_series > " + "1" * 3
    long_select += " AND '" + "y" * 150 + "' <> ''"
    heavy = Background(conn, long_select)
    row = running_row(root, "SELECT count(*) FROM TABLE(generate_series(1, 1000000000000)) WHERE")
    check(row is not None and row["Info"] == long_select, "SHOW FULL PROCESSLIST shows the whole statement")
    short = [r for r in processlist(root)[1] if row and r["Id"] == row["Id"]]
    check(len(short) == 1 and short[0]["Info"] == long_select[:100],
          f"SHOW PROCESSLIST shows its first 100 characters: {short[0]['Info'] if short else None!r}")
    query(root, f"KILL {row['Id']}")
    heavy.wait(10)


def query_timeout(server, root):
    conn = connect(server, "u", "pw")
    check(query(conn, "SELECT @@query_timeout") == (("300",),) or query(conn, "SELECT @@query_timeout") == ((300,),),
          "query_timeout defaults to 300 seconds")
    query(conn, "SET query_timeout = 2")
    started = time.time()
    err = error_of(conn, HEAVY)
    took = time.time() - started
    check(err == (3024, "Query reached its timeout of 2 seconds, please increase the 'query_timeout' session "
                        "variable and retry"), f"query_timeout ends the query with StarRocks' error: {err}")
    check(1.5 < took < 10, f"after about 2 seconds: {took:.1f} s")
    check(query(conn, "SELECT 1") == ((1,),), "the connection goes on after a timeout")
    conn.close()


def client_hang_up(server, root):
    client = subprocess.Popen(["mariadb", "-h127.0.0.1", f"-P{server.mysql_port}", "-uu", "-ppw", "-e", HEAVY],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    row = running_row(root, "SELECT count(*) FROM TABLE(generate_series")
    check(row is not None, "the mariadb client's query runs")
    client.kill()
    client.wait()
    check(row is not None and gone_from_processlist(root, row["Id"]),
          "when the client is killed, its query and connection end within seconds")


def settled_rss(pid, limit, seconds=15):
    """RSS once it is at most `limit`, or after `seconds` (freed memory goes back in steps)."""
    deadline = time.time() + seconds
    rss = rss_bytes(pid)
    while rss > limit and time.time() < deadline:
        time.sleep(0.25)
        rss = rss_bytes(pid)
    return rss


def memory_limits(server, root):
    """Runs first, on a fresh server, so that RSS before is the server's start."""
    conn = connect(server, "u", "pw")
    query(conn, "SELECT count(DISTINCT generate_series) FROM TABLE(generate_series(1, 1000))")
    before = rss_bytes(server.process.pid)
    query(conn, "SELECT count(DISTINCT generate_series) FROM TABLE(generate_series(1, 3000000))")
    peak = rss_bytes(server.process.pid)
    after = settled_rss(server.process.pid, before + SETTLED_SLACK)
    check(after <= before + SETTLED_SLACK,
          f"after a DISTINCT of 3 million keys RSS returns near its start: {before >> 20} MiB before, "
          f"{peak >> 20} MiB just after, {after >> 20} MiB later")
    query(conn, "SET query_mem_limit = 67108864")
    err = error_of(conn, DISTINCT_30M)
    check(err is not None and err[0] == 1064
          and err[1].startswith("Memory of query exceed limit. Used: ")
          and err[1].endswith(", Limit: 67108864. Mem usage has exceed the limit of single query, You can change "
                              "the limit by set session variable query_mem_limit."),
          f"query_mem_limit fails the DISTINCT with StarRocks' message: {err}")
    check(query(conn, "SELECT count(DISTINCT generate_series) FROM TABLE(generate_series(1, 100000))") == ((100000,),),
          "the connection goes on and a smaller DISTINCT succeeds under the limit")
    query(conn, "SET query_mem_limit = 0")

    # The process-wide pool: query_pool_mem_limit changes at run time.
    query(root, 'ADMIN SET FRONTEND CONFIG ("query_pool_mem_limit" = "64M")')
    err = error_of(conn, DISTINCT_30M)
    check(err is not None and err[0] == 1064 and "Mem usage has exceed the limit of query pool" in err[1],
          f"query_pool_mem_limit fails it too, naming the pool: {err}")
    query(root, 'ADMIN SET FRONTEND CONFIG ("query_pool_mem_limit" = "0")')
    check(query(root, "SELECT 1") == ((1,),), "the server survives both")

    after = settled_rss(server.process.pid, before + SETTLED_SLACK)
    check(after <= before + SETTLED_SLACK,
          f"after the refused statements RSS returns near its start: {before >> 20} MiB before, {after >> 20} MiB after")
    conn.close()


def huge_in_lists(server):
    """Four clients each send a 30 MB statement with a 4-million-item IN list (it took 2.5 GB):
    each is refused after its first 10000 items are read, quickly, and memory stays bounded by
    the texts themselves."""
    items = ",".join(str(1000000 + i) for i in range(4000000))
    sql = f"SELECT count(*) FROM TABLE(generate_series(1, 10)) WHERE generate_series IN ({items})"
    pid = server.process.pid
    start = rss_bytes(pid)
    peak = [start]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_bytes(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    clients = [Background(pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="u", password="pw",
                                          max_allowed_packet=64 << 20), sql) for _ in range(4)]
    finished = all(c.wait(60) for c in clients)
    sampling.set()
    sampler.join()
    check(finished and all(c.error and c.error[0] == 1064 and "Expression child number exceeded the maximum 10000"
                           in c.error[1] for c in clients),
          f"four {len(sql) >> 20} MB IN lists are refused: {[c.error[1][:120] if c.error else None for c in clients]}")
    took = max(c.seconds or 0 for c in clients)
    print(f"# four {len(sql) >> 20} MB IN-list statements: refused within {took:.2f} s, RSS {start >> 20} MiB -> "
          f"peak {peak[0] >> 20} MiB", flush=True)
    check(took < 10, f"within seconds: {took:.2f} s")
    check(peak[0] - start < (768 << 20), f"RSS grows by less than 768 MiB: {(peak[0] - start) >> 20} MiB")


def sigterm_during_query(server):
    conn = connect(server, "u", "pw")
    heavy = Background(conn, HEAVY)
    time.sleep(1)
    started = time.time()
    code = server.stop(signal.SIGTERM, timeout=30)
    took = time.time() - started
    check(code == 0, f"SIGTERM during a query: the server exits cleanly (code {code})")
    check(took < 5, f"within a few seconds: {took:.1f} s")
    check(heavy.wait(10) and heavy.error is not None, f"the client reads an error: {heavy.error}")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def under_load(server, root, work):
    """8 clients run heavy queries and a throttled BACKUP runs; loop 0 keeps answering."""
    query(root, "CREATE DATABASE load_db")
    query(root, "CREATE TABLE load_db.t (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
    query(root, "INSERT INTO load_db.t SELECT generate_series, 'some text to make the segments bigger' "
                "FROM TABLE(generate_series(1, 300000))")
    location = os.path.join(work, "repo")
    os.makedirs(location)
    query(root, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
    query(root, 'ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "64")')
    query(root, "BACKUP SNAPSHOT load_db.snap TO repo ON (t)")

    heavy_kinds = [HEAVY,
                   "SELECT count(DISTINCT generate_series % 1000) FROM TABLE(generate_series(1, 1000000000000))",
                   "SELECT generate_series FROM TABLE(generate_series(1, 1000000000000)) ORDER BY generate_series DESC "
                   "LIMIT 5",
                   "SELECT count(*) FROM load_db.t WHERE v LIKE '%bigger%'"]
    stop = threading.Event()
    finished_clients = []

    def heavy_client(n):
        conn = connect(server, "root", "")
        query(conn, "SET query_timeout = 600")
        while not stop.is_set():
            try:
                query(conn, heavy_kinds[n % len(heavy_kinds)])
            except pymysql.MySQLError:
                break
        finished_clients.append(n)

    clients = [threading.Thread(target=heavy_client, args=(n,), daemon=True) for n in range(8)]
    for c in clients:
        c.start()
    deadline = time.time() + 20
    while time.time() < deadline and len([r for r in processlist(root)[1] if r["Command"] == "Query"]) < 9:
        time.sleep(0.1)
    running = len([r for r in processlist(root)[1] if r["Command"] == "Query"])
    check(running >= 9, f"8 heavy queries run (and the SHOW itself): {running}")

    probe = connect(server, "root", "")
    select_ms, health_ms = [], []
    for _ in range(200):
        started = time.perf_counter()
        query(probe, "SELECT 1")
        select_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        health = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
        health.request("GET", "/api/health")
        ok = health.getresponse().status == 200
        health.close()
        health_ms.append((time.perf_counter() - started) * 1000)
        if not ok:
            check(False, "/api/health answers 200 under load")
            break
        time.sleep(0.02)
    backup_state = query(root, "SHOW BACKUP FROM load_db")[0][3]
    check(backup_state not in ("FINISHED", "CANCELLED"), f"the BACKUP was running all along: {backup_state}")
    select_p99, health_p99 = percentile(select_ms, 0.99), percentile(health_ms, 0.99)
    print(f"# under load (8 heavy clients + BACKUP): SELECT 1 p50 {percentile(select_ms, 0.5):.1f} ms "
          f"p99 {select_p99:.1f} ms; /api/health p50 {percentile(health_ms, 0.5):.1f} ms p99 {health_p99:.1f} ms",
          flush=True)
    check(select_p99 < LATENCY_BOUND_MS, f"SELECT 1 p99 under {LATENCY_BOUND_MS} ms: {select_p99:.1f} ms")
    check(health_p99 < LATENCY_BOUND_MS, f"/api/health p99 under {LATENCY_BOUND_MS} ms: {health_p99:.1f} ms")
    check(not finished_clients, f"the heavy queries ran all along: {finished_clients} stopped")

    stop.set()
    for row in processlist(root)[1]:
        if row["Command"] == "Query" and row["Info"] != "SHOW PROCESSLIST":
            try:
                query(root, f"KILL QUERY {row['Id']}")
            except pymysql.err.OperationalError as e:
                if e.args[0] != 1094:  # its connection ended since SHOW PROCESSLIST: nothing to stop
                    raise
    for c in clients:
        c.join(30)
    query(root, "CANCEL BACKUP FROM load_db")
    query(root, 'ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "0")')
    probe.close()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-query-control-")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, os.path.join(work, "data"), log_path)
    try:
        server.start()
        root = connect(server)
        query(root, "CREATE USER 'u' IDENTIFIED BY 'pw'")
        query(root, "CREATE USER 'w' IDENTIFIED BY 'pw'")
        memory_limits(server, root)
        kill_query_and_processlist(server, root)
        info_is_capped(server, root)
        query_timeout(server, root)
        client_hang_up(server, root)
        huge_in_lists(server)
        under_load(server, root, work)
        root.close()
        sigterm_during_query(server)
        check(not server.sanitizer_reports(), f"no sanitizer reports: {server.sanitizer_reports()[:3]}")
    finally:
        if server.process is not None:
            server.stop(signal.SIGKILL)
    finish(work, log_path)


if __name__ == "__main__":
    main()
