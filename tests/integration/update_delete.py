#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# UPDATE and DELETE end to end: affected rows and the OK packet's info as the client sees them;
# the changes travel with BACKUP and come back with RESTORE (into a new database and with AS);
# a KILL QUERY during a large UPDATE or DELETE changes nothing, and a kill -9 during a large DELETE
# leaves the table all before or all after.
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backup_test_util import connect, error_of, query, wait_for  # noqa: E402
from restore_test_util import checksum, rows_of, run_restore  # noqa: E402
from tap import FAILURES, check  # noqa: E402
from tvserver import TvServer  # noqa: E402

ROWS = 3000
BIG = 600000
ROUNDS = 3


def execute(conn, sql):
    """Affected rows and the OK packet's info text."""
    with conn.cursor() as cur:
        affected = cur.execute(sql)
    info = conn._result.message.decode() if conn._result.message else ""
    return affected, info


def make_tables(conn):
    query(conn, "CREATE DATABASE d1")
    query(conn, "CREATE TABLE d1.pk (k BIGINT NOT NULL, dt DATE NOT NULL, v INT, s VARCHAR(32) NOT NULL) "
                "PRIMARY KEY(k, dt) PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
                "PARTITION p2 VALUES LESS THAN ('2024-03-01'), PARTITION p3 VALUES LESS THAN ('2024-04-01')) "
                "DISTRIBUTED BY HASH(k) BUCKETS 3")
    query(conn, "CREATE TABLE d1.dup (k BIGINT NOT NULL, dt DATE NOT NULL, g INT, s VARCHAR(32)) DUPLICATE KEY(k) "
                "PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
                "PARTITION p2 VALUES LESS THAN ('2024-03-01'), PARTITION p3 VALUES LESS THAN ('2024-04-01')) "
                "DISTRIBUTED BY HASH(k) BUCKETS 3")
    for table in ("pk", "dup"):
        query(conn, f"INSERT INTO d1.{table} SELECT generate_series, date_add('2024-01-01', generate_series % 90), "
                    f"generate_series % 7, concat('r', generate_series) FROM TABLE(generate_series(1, {ROWS}))")


def change_rows(conn):
    """UPDATE and DELETE, each checked against what a plain SELECT says they should touch."""
    want = query(conn, "SELECT COUNT(*) FROM d1.pk WHERE k % 3 = 0")[0][0]
    affected, info = execute(conn, "UPDATE d1.pk SET v = -k, s = concat(s, '-u') WHERE k % 3 = 0")
    check(affected == want and want > 0, f"UPDATE reports its {want} matched rows as affected: {affected}")
    check("'status':'VISIBLE'" in info and "'label':'update_" in info, f"UPDATE's OK info names a label: {info}")
    check(query(conn, "SELECT COUNT(*) FROM d1.pk WHERE v = -k AND s LIKE '%-u'")[0][0] == want,
          "the updated rows read back changed")
    check(query(conn, "SELECT COUNT(*) FROM d1.pk")[0][0] == ROWS, "UPDATE adds no rows to a PRIMARY KEY table")
    want = query(conn, "SELECT COUNT(*) FROM d1.pk WHERE k % 5 = 0")[0][0]
    affected, info = execute(conn, "DELETE FROM d1.pk WHERE k % 5 = 0")
    check(affected == want and want > 0, f"DELETE on PRIMARY KEY reports {want} rows: {affected}")
    check("'label':'delete_" in info, f"DELETE's OK info names a label: {info}")
    want = query(conn, "SELECT COUNT(*) FROM d1.dup WHERE g = 3")[0][0]
    affected, _ = execute(conn, "DELETE FROM d1.dup WHERE g = 3")
    check(affected == want and want > 0, f"DELETE on DUPLICATE KEY reports {want} rows: {affected}")
    want = query(conn, "SELECT COUNT(*) FROM d1.dup WHERE dt < '2024-02-01' AND g IN (1, 2)")[0][0]
    affected, _ = execute(conn, "DELETE FROM d1.dup PARTITION p1 WHERE g IN (1, 2)")
    check(affected == want and want > 0, f"DELETE ... PARTITION p1 reports {want} rows: {affected}")
    check(query(conn, "SELECT COUNT(*) FROM d1.dup WHERE g IN (1, 2) AND dt >= '2024-02-01'")[0][0] > 0,
          "rows of other partitions are kept")
    check(query(conn, "SELECT COUNT(*) FROM d1.dup WHERE g = 3")[0][0] == 0, "no deleted row reads back")
    affected, _ = execute(conn, "DELETE FROM d1.dup WHERE g = 3")
    check(affected == 0, f"a DELETE matching nothing reports 0 rows: {affected}")


def backup_and_restore(conn, work):
    before = {t: (rows_of(conn, "d1", t), checksum(conn, "d1", t)) for t in ("pk", "dup")}
    location = os.path.join(work, "repo")
    query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
    query(conn, "BACKUP DATABASE d1 SNAPSHOT s1 TO repo ON (TABLE pk, TABLE dup)")
    check(wait_for(conn, "d1", {"FINISHED", "CANCELLED"})["State"] == "FINISHED", "BACKUP after UPDATE and DELETE")
    # Changes after the snapshot must not be restored.
    query(conn, "DELETE FROM d1.pk WHERE k < 100")
    query(conn, "UPDATE d1.pk SET v = 0 WHERE k >= 100")
    query(conn, "DELETE FROM d1.dup WHERE k < 100")
    _, row = run_restore(conn, "RESTORE SNAPSHOT s1 FROM repo DATABASE d1 AS d2", "d2")
    check(row["State"] == "FINISHED", f"RESTORE into a new database: {row['State']} {row.get('Status')}")
    for t in ("pk", "dup"):
        check(rows_of(conn, "d2", t) == before[t][0], f"d2.{t} holds exactly the rows at BACKUP time")
        check(checksum(conn, "d2", t) == before[t][1], f"d2.{t}'s checksum equals the backed-up table's")
    _, row = run_restore(conn, "RESTORE SNAPSHOT s1 FROM repo DATABASE d1 ON (TABLE pk AS pk_back, TABLE dup AS "
                               "dup_back)", "d1")
    check(row["State"] == "FINISHED", f"RESTORE ... AS: {row['State']} {row.get('Status')}")
    for t in ("pk", "dup"):
        check(rows_of(conn, "d1", f"{t}_back") == before[t][0], f"d1.{t}_back holds the rows at BACKUP time")
    # A restored PRIMARY KEY table keeps working with UPDATE and DELETE.
    affected, _ = execute(conn, "UPDATE d2.pk SET v = 1 WHERE k = 1")
    check(affected == 1, f"UPDATE on the restored table: {affected}")
    affected, _ = execute(conn, "DELETE FROM d2.pk WHERE k = 1")
    check(affected == 1 and query(conn, "SELECT COUNT(*) FROM d2.pk WHERE k = 1")[0][0] == 0,
          "DELETE on the restored table")


def big_state(conn):
    return (query(conn, "SELECT COUNT(*) FROM c.big")[0][0], query(conn, "SELECT COUNT(*) FROM c.big WHERE g = 1")[0][0],
            checksum(conn, "c", "big"))


def delete_in_thread(server, done, ids=None):
    try:
        c = connect(server)
        if ids is not None:
            ids.append(c.thread_id())
        with c.cursor() as cur:
            cur.execute("DELETE FROM c.big WHERE g = 1")
        done.append("committed")
    except Exception as e:  # the kill cuts the connection
        done.append(f"cut: {type(e).__name__}: {e}")


def kill_query(conn, thread_id, worker, done, statement):
    """KILL QUERY the worker's statement, then wait for the worker. On a slow machine the statement
    can end, and its connection close, before the KILL: there is then no such thread (1094), and
    the statement must have committed whole."""
    try:
        query(conn, f"KILL QUERY {thread_id}")
    except pymysql.err.OperationalError as e:
        if e.args[0] != 1094:
            raise
        worker.join(timeout=120)
        check(done == ["committed"], f"KILL QUERY found no thread only because the {statement} had ended: {done}")
    worker.join(timeout=120)


def killed_update(server, conn):
    """KILL QUERY during a large UPDATE on a PRIMARY KEY table: 1317, and the table unchanged."""
    for name in ("upk", "upk_twin"):
        query(conn, f"CREATE TABLE c.{name} (id BIGINT NOT NULL, v BIGINT, s VARCHAR(32)) PRIMARY KEY(id) "
                    "DISTRIBUTED BY HASH(id) BUCKETS 4")
        query(conn, f"INSERT INTO c.{name} SELECT generate_series, generate_series, concat('v', generate_series) "
                    f"FROM TABLE(generate_series(1, {BIG // 2}))")
    started = time.time()
    affected, _ = execute(conn, "UPDATE c.upk_twin SET v = v + 1, s = 'changed' WHERE id % 2 = 0")
    took = time.time() - started
    check(affected == BIG // 4, f"a large UPDATE: {affected} rows in {took:.2f} s")
    before = (checksum(conn, "c", "upk"), query(conn, "SELECT COUNT(*) FROM c.upk WHERE s = 'changed'")[0][0])
    done, ids = [], []

    def run():
        try:
            c = connect(server)
            ids.append(c.thread_id())
            with c.cursor() as cur:
                cur.execute("UPDATE c.upk SET v = v + 1, s = 'changed' WHERE id % 2 = 0")
            done.append("committed")
        except Exception as e:
            done.append(f"cut: {type(e).__name__}: {e}")

    worker = threading.Thread(target=run)
    worker.start()
    while not ids:
        time.sleep(0.01)
    time.sleep(took * 0.4)
    kill_query(conn, ids[0], worker, done, "UPDATE")
    after = (checksum(conn, "c", "upk"), query(conn, "SELECT COUNT(*) FROM c.upk WHERE s = 'changed'")[0][0])
    if done and done[0] == "committed":
        check(after[1] == BIG // 4, "KILL QUERY came after the UPDATE's commit: it is whole")
    else:
        check("1317" in done[0], f"the killed UPDATE answers 1317: {done}")
        check(after == before, "a killed UPDATE changed nothing")


def data_files(data_dir):
    found = set()
    for root, _, files in os.walk(os.path.join(data_dir, "storage", "data")):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), data_dir))
    return found


def large_delete(server, conn, data_dir):
    query(conn, "CREATE DATABASE c")
    for name in ("big", "twin"):
        query(conn, f"CREATE TABLE c.{name} (id BIGINT NOT NULL, g INT, s VARCHAR(32)) DUPLICATE KEY(id) "
                    "PARTITION BY RANGE(id) (PARTITION p1 VALUES LESS THAN (\"300000\"), "
                    "PARTITION p2 VALUES LESS THAN (MAXVALUE)) DISTRIBUTED BY HASH(id) BUCKETS 4")
        query(conn, f"INSERT INTO c.{name} SELECT generate_series, generate_series % 7, concat('v', generate_series) "
                    f"FROM TABLE(generate_series(1, {BIG}))")
    want = query(conn, "SELECT COUNT(*) FROM c.twin WHERE g = 1")[0][0]
    started = time.time()
    affected, _ = execute(conn, "DELETE FROM c.twin WHERE g = 1")
    took = time.time() - started
    check(affected == want and query(conn, "SELECT COUNT(*) FROM c.twin")[0][0] == BIG - want,
          f"a large DELETE: {affected} rows in {took:.2f} s")
    before = big_state(conn)
    matched = before[1]
    # KILL QUERY from another connection: the DELETE answers 1317 and the table is unchanged.
    killed_update(server, conn)
    done, ids = [], []
    worker = threading.Thread(target=delete_in_thread, args=(server, done, ids))
    worker.start()
    while not ids:
        time.sleep(0.01)
    time.sleep(took * 0.4)
    kill_query(conn, ids[0], worker, done, "DELETE")
    if done and done[0] == "committed":
        check(big_state(conn)[1] == 0, "KILL QUERY came after the commit: the DELETE is whole")
        print("# KILL QUERY landed after the commit; restoring the rows for the kill -9 rounds")
        query(conn, "INSERT INTO c.big SELECT generate_series, 1, concat('v', generate_series) "
                    f"FROM TABLE(generate_series(1, {BIG})) WHERE generate_series % 7 = 1")
        before = big_state(conn)
    else:
        check("1317" in done[0] or "interrupted" in done[0].lower(), f"the killed DELETE answers an error: {done}")
        check(big_state(conn) == before, "a killed DELETE changed nothing")
    cut = 0
    for round_number in range(ROUNDS):
        files_before = data_files(data_dir)
        done = []
        worker = threading.Thread(target=delete_in_thread, args=(server, done))
        worker.start()
        time.sleep(random.uniform(0.2, 0.8) * took)
        server.stop(signal.SIGKILL)
        worker.join(timeout=60)
        server.start()
        conn = connect(server)
        after = big_state(conn)
        if done and done[0] == "committed":
            check(after[0] == before[0] - matched and after[1] == 0,
                  f"round {round_number}: the acknowledged DELETE survived whole: {after}")
            return conn
        if after == before:
            cut += 1
            check(data_files(data_dir) == files_before,
                  f"round {round_number}: killed mid-DELETE, table unchanged and its files gone")
        else:
            # Published just before the kill, unacknowledged: then it is there whole.
            check(after[0] == before[0] - matched and after[1] == 0,
                  f"round {round_number}: killed after publish, the DELETE is whole: {after}")
            return conn
    check(cut > 0, f"some kill landed mid-DELETE ({cut} of {ROUNDS})")
    return conn


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-update-delete-")
    data_dir = os.path.join(work, "data")
    server = TvServer(binary, data_dir, os.path.join(work, "server.log"), ["--set", "write_buffer_size=262144"])
    try:
        server.start()
        conn = connect(server)
        make_tables(conn)
        change_rows(conn)
        backup_and_restore(conn, work)
        err = error_of(conn, "UPDATE d1.dup SET g = 1 WHERE k = 1")
        check(err is not None and err[0] == 1064 and "does not support update" in err[1], f"UPDATE on DUPLICATE: {err}")
        conn = large_delete(server, conn, data_dir)
        conn.close()
        reports = server.sanitizer_reports()
        check(not reports, "no sanitizer reports: " + "; ".join(reports[:3]))
        check(server.stop() == 0, "clean shutdown")
    finally:
        if server.process is not None:
            server.stop(signal.SIGKILL, timeout=10)
        if FAILURES:
            print(open(os.path.join(work, "server.log")).read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
