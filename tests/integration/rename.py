#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Renames end to end: ALTER TABLE RENAME / SWAP WITH / RENAME PARTITION and ALTER DATABASE
# RENAME survive a restart and a kill -9 right after they are acknowledged; a client swapping
# two tables while the server is killed at random moments finds, after every restart, both
# names present with one table each, never half a swap; renames, SWAP and DROP are refused
# while a throttled BACKUP or RESTORE holds the table or database, also after a restart that
# resumes the job; and a table restored AS t_restored, then swapped or renamed in, backs up and
# restores again under its new name with the same CHECKSUM TABLE.
import os
import random
import signal
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backup_test_util import check, connect, error_of, finish, query, wait_for  # noqa: E402
from restore_test_util import checksum, insert_rows, run_restore, wait_restore  # noqa: E402
from tvserver import TvServer  # noqa: E402

SWAP_ROUNDS = 6


def names(conn, db):
    return sorted(r[0] for r in query(conn, f"SHOW TABLES FROM {db}"))


def partitions(conn, db, table):
    return [r[1] for r in query(conn, f"SHOW PARTITIONS FROM {db}.{table}")]


def snapshot_ts(conn, repo, label):
    return query(conn, f"SHOW SNAPSHOT ON `{repo}` WHERE `Snapshot` = '{label}'")[0][1]


def kill_restart(server):
    server.stop(signal.SIGKILL)
    server.start()
    return connect(server)


def journaled_renames(server):
    """Each rename is durable once acknowledged: kill -9 right after, then a clean restart."""
    conn = connect(server)
    query(conn, "CREATE DATABASE d1")
    query(conn, "CREATE TABLE d1.a (k INT NOT NULL, v VARCHAR(16)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                "(PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"200\")) "
                "DISTRIBUTED BY HASH(k) BUCKETS 2")
    query(conn, "CREATE TABLE d1.b (k INT NOT NULL, v VARCHAR(16)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    insert_rows(conn, "d1.a", 1, 150, 10, seed=1)
    insert_rows(conn, "d1.b", 1, 20, 10, seed=2)
    sums = {"a": checksum(conn, "d1", "a"), "b": checksum(conn, "d1", "b")}

    query(conn, "ALTER TABLE d1.a RENAME a2")
    conn = kill_restart(server)
    check(names(conn, "d1") == ["a2", "b"] and checksum(conn, "d1", "a2") == sums["a"],
          f"RENAME survives kill -9 right after it: {names(conn, 'd1')}")

    query(conn, "ALTER TABLE d1.a2 SWAP WITH b")
    conn = kill_restart(server)
    check(checksum(conn, "d1", "b") == sums["a"] and checksum(conn, "d1", "a2") == sums["b"],
          "SWAP survives kill -9 right after it: each name holds the other's data")
    check(partitions(conn, "d1", "a2") == ["a2"] and partitions(conn, "d1", "b") == ["p1", "p2"],
          f"an unpartitioned table's partition follows its name: {partitions(conn, 'd1', 'a2')}")

    query(conn, "ALTER TABLE d1.b RENAME PARTITION p1 p_low")
    conn = kill_restart(server)
    check(partitions(conn, "d1", "b") == ["p_low", "p2"], f"RENAME PARTITION survives kill -9: "
                                                          f"{partitions(conn, 'd1', 'b')}")

    query(conn, "ALTER DATABASE d1 RENAME d1x")
    conn = kill_restart(server)
    dbs = [r[0] for r in query(conn, "SHOW DATABASES")]
    check("d1x" in dbs and "d1" not in dbs and names(conn, "d1x") == ["a2", "b"],
          f"ALTER DATABASE RENAME survives kill -9: {dbs}")
    server.stop()
    server.start()
    conn = connect(server)
    check(checksum(conn, "d1x", "b") == sums["a"] and partitions(conn, "d1x", "b") == ["p_low", "p2"],
          "after a clean restart (image written) the names and data are the same")
    query(conn, "INSERT INTO d1x.b VALUES (5, 'after')")
    check(query(conn, "SELECT COUNT(*) FROM d1x.b WHERE k = 5")[0][0] == 2, "the renamed table loads")


def swap_loop(port, acked, in_flight, stop):
    try:
        c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
        cur = c.cursor()
        while not stop.is_set():
            in_flight[0] = True
            cur.execute("ALTER TABLE ds.x SWAP WITH y")
            acked[0] += 1
            in_flight[0] = False
    except Exception:
        pass  # the kill ends it


def swaps_under_kill(server, work):
    """A client swaps x and y as fast as it can; kill -9 at random moments: after each restart
    both names exist, each holds one of the two tables, and the count of swaps is the
    acknowledged one (or one more, the one in flight)."""
    conn = connect(server)
    query(conn, "CREATE DATABASE ds")
    for t, n in (("x", 3), ("y", 5)):
        query(conn, f"CREATE TABLE ds.{t} (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        query(conn, f"INSERT INTO ds.{t} VALUES " + ", ".join(f"({i})" for i in range(n)))
    rng = random.Random(int(os.environ.get("TV_CRASH_SEED", "20261205")))
    total = 0
    for round_no in range(SWAP_ROUNDS):
        acked, in_flight, stop = [0], [False], threading.Event()
        thread = threading.Thread(target=swap_loop, args=(server.mysql_port, acked, in_flight, stop))
        thread.start()
        time.sleep(rng.uniform(0.05, 0.6))
        server.stop(signal.SIGKILL)
        stop.set()
        thread.join()
        server.start()
        conn = connect(server)
        x = query(conn, "SELECT COUNT(*) FROM ds.x")[0][0]
        y = query(conn, "SELECT COUNT(*) FROM ds.y")[0][0]
        swapped = (total + acked[0]) % 2 == 1
        allowed = {(5, 3) if swapped else (3, 5)}
        if in_flight[0]:
            allowed.add((3, 5) if swapped else (5, 3))
        check(names(conn, "ds") == ["x", "y"] and (x, y) in allowed,
              f"round {round_no}: after {acked[0]} acknowledged swaps and kill -9, x has {x} rows and y {y} "
              f"(allowed {sorted(allowed)})")
        total = 1 if (x, y) == (5, 3) else 0


def held_by_backup(server, location):
    """While a throttled BACKUP holds a table, renames, SWAP and DROP of it are refused; the
    database too; other tables are free; the hold outlives a restart that resumes the job."""
    conn = connect(server)
    query(conn, "CREATE DATABASE dh")
    query(conn, "CREATE TABLE dh.big (k INT NOT NULL, v VARCHAR(200)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                "(PARTITION p1 VALUES LESS THAN (\"100000\")) DISTRIBUTED BY HASH(k) BUCKETS 1")
    query(conn, "CREATE TABLE dh.free (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    for first in range(0, 3000, 1000):
        insert_rows(conn, "dh.big", first, 1000, 200, seed=first)
    query(conn, f"CREATE REPOSITORY `repo` WITH BROKER ON LOCATION \"{location}\"")
    query(conn, 'ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "64")')
    # The global limit throttles it now; its own limit (journaled with the job) after the restart.
    query(conn, "BACKUP DATABASE `dh` SNAPSHOT `hold1` TO `repo` ON (TABLE `big`) "
                "PROPERTIES (\"max_upload_speed_kbps\" = \"96\")")
    wait_for(conn, "dh", {"UPLOADING"}, timeout=60)
    table_msg = "Table [big] is under BACKUP job 'hold1'"
    refused = {
        "ALTER TABLE dh.big RENAME big2": table_msg + ": RENAME is refused until the job ends (SHOW BACKUP, or "
                                          "CANCEL BACKUP FROM dh)",
        "ALTER TABLE dh.big SWAP WITH free": table_msg + ": SWAP is refused",
        "ALTER TABLE dh.free SWAP WITH big": table_msg + ": SWAP is refused",
        "ALTER TABLE dh.free RENAME big": None,  # name taken: 1050 before any hold
        "ALTER TABLE dh.big RENAME PARTITION p1 p9": table_msg + ": RENAME PARTITION is refused",
        "DROP TABLE dh.big": table_msg + ": DROP TABLE is refused",
        "ALTER DATABASE dh RENAME dh2": "Database [dh] is under BACKUP job 'hold1': RENAME is refused",
        "DROP DATABASE dh": "Database [dh] is under BACKUP job 'hold1': DROP DATABASE is refused",
    }
    for sql, want in refused.items():
        err = error_of(conn, sql)
        if want is None:
            check(err is not None and err[0] == 1050, f"{sql}: {err}")
        else:
            check(err is not None and err[0] == 1064 and want in err[1], f"refused while backed up: {sql}: {err}")
    query(conn, "ALTER TABLE dh.free RENAME free2")
    check(names(conn, "dh") == ["big", "free2"], "a table the backup does not hold renames meanwhile")

    conn = kill_restart(server)
    row = wait_for(conn, "dh", {"UPLOADING"}, timeout=60)
    err = error_of(conn, "ALTER TABLE dh.big RENAME big2")
    check(err is not None and table_msg in err[1], f"the resumed job still holds the table: {err}")
    query(conn, 'ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "0")')
    row = wait_for(conn, "dh", {"FINISHED", "CANCELLED"}, timeout=120)
    check(row["State"] == "FINISHED", f"the backup finishes: {row['Status']}")
    query(conn, "ALTER TABLE dh.big RENAME big2")
    check(names(conn, "dh") == ["big2", "free2"], "once the job ends the table renames")
    return conn


def held_by_restore(server, conn):
    """A throttled RESTORE holds the names it restores into and its database."""
    ts = snapshot_ts(conn, "repo", "hold1")
    query(conn, "CREATE TABLE dh.other (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    query(conn, f"RESTORE SNAPSHOT `dh`.`hold1` FROM `repo` ON (TABLE `big` AS `big_restored`) "
                f"PROPERTIES (\"backup_timestamp\" = \"{ts}\", \"max_download_speed_kbps\" = \"64\")")
    wait_restore(conn, "dh", {"DOWNLOADING"}, timeout=60)
    for sql, want in {
        "ALTER TABLE dh.other RENAME big_restored": "Table [big_restored] is under RESTORE job 'hold1': RENAME",
        "ALTER DATABASE dh RENAME dh3": "Database [dh] is under RESTORE job 'hold1': RENAME is refused",
    }.items():
        err = error_of(conn, sql)
        check(err is not None and err[0] == 1064 and want in err[1], f"refused while restored: {sql}: {err}")
    query(conn, "CANCEL RESTORE FROM dh")
    wait_restore(conn, "dh", {"CANCELLED"}, timeout=30)
    query(conn, "ALTER DATABASE dh RENAME dh3")
    check("dh3" in [r[0] for r in query(conn, "SHOW DATABASES")], "after CANCEL RESTORE the database renames")


def restored_then_renamed(server, location):
    """RESTORE AS t_restored, swap it in with two renames (and with SWAP), BACKUP again, RESTORE
    into another database: the same CHECKSUM TABLE, under the new name."""
    conn = connect(server)
    query(conn, "CREATE DATABASE dr")
    query(conn, "CREATE TABLE dr.t (k INT NOT NULL, v VARCHAR(40)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                "(PARTITION p1 VALUES LESS THAN (\"500\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
                "DISTRIBUTED BY HASH(k) BUCKETS 2")
    query(conn, "CREATE TABLE dr.u (k INT NOT NULL, v VARCHAR(40)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    insert_rows(conn, "dr.t", 0, 900, 30, seed=7)
    insert_rows(conn, "dr.u", 0, 50, 30, seed=8)
    original = {"t": checksum(conn, "dr", "t"), "u": checksum(conn, "dr", "u")}
    query(conn, "BACKUP SNAPSHOT `dr`.`base` TO `repo` ON (TABLE `t`, TABLE `u`) PROPERTIES (\"type\" = \"full\")")
    wait_for(conn, "dr", {"FINISHED"}, timeout=60)
    ts = snapshot_ts(conn, "repo", "base")
    query(conn, "INSERT INTO dr.t VALUES (1, 'damage'), (600, 'damage')")
    query(conn, "INSERT INTO dr.u VALUES (1, 'damage')")

    # The "safe restore" of a backup tool: beside the table, then two renames.
    _, row = run_restore(conn, f"RESTORE SNAPSHOT `dr`.`base` FROM `repo` ON (TABLE `t` AS `t_restored`, "
                               f"TABLE `u` AS `u_restored`) PROPERTIES (\"backup_timestamp\" = \"{ts}\")", "dr")
    check(row["State"] == "FINISHED", f"RESTORE AS t_restored: {row['Status']}")
    query(conn, "ALTER TABLE `dr`.`t` RENAME `t_old`")
    query(conn, "ALTER TABLE `dr`.`t_restored` RENAME `t`")
    query(conn, "ALTER TABLE `dr`.`u` SWAP WITH `u_restored`")
    check(checksum(conn, "dr", "t") == original["t"] and checksum(conn, "dr", "u") == original["u"],
          "the restored tables are in place under the original names")
    check(partitions(conn, "dr", "u") == ["u"], f"the swapped-in table's partition is named as it: "
                                                f"{partitions(conn, 'dr', 'u')}")

    query(conn, "BACKUP DATABASE `dr` SNAPSHOT `again` TO `repo` ON (TABLE `t`, TABLE `u`)")
    row = wait_for(conn, "dr", {"FINISHED", "CANCELLED"}, timeout=60)
    check(row["State"] == "FINISHED" and row["BackupObjs"] == "[dr.t], [dr.u]",
          f"the renamed tables back up under their new names: {row['BackupObjs']} {row['Status']}")
    ts2 = snapshot_ts(conn, "repo", "again")
    conn = kill_restart(server)
    _, row = run_restore(conn, f"RESTORE SNAPSHOT `again` FROM `repo` DATABASE `dr` AS `dr_copy` "
                               f"PROPERTIES (\"backup_timestamp\" = \"{ts2}\")", "dr_copy")
    check(row["State"] == "FINISHED" and row["RestoreObjs"] == "t, u", f"restored elsewhere: {row['RestoreObjs']} "
                                                                     f"{row['Status']}")
    check(names(conn, "dr_copy") == ["t", "u"], f"under the new names: {names(conn, 'dr_copy')}")
    check(checksum(conn, "dr_copy", "t") == original["t"] and checksum(conn, "dr_copy", "u") == original["u"],
          "CHECKSUM TABLE equals the original's")
    check(partitions(conn, "dr_copy", "u") == ["u"] and partitions(conn, "dr_copy", "t") == ["p1", "p2"],
          "partitions as they were backed up")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-rename-")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, os.path.join(work, "data"), log_path)
    location = os.path.join(work, "repo")
    try:
        server.start()
        journaled_renames(server)
        swaps_under_kill(server, work)
        conn = held_by_backup(server, location)
        held_by_restore(server, conn)
        restored_then_renamed(server, location)
        server.stop()
        check(not server.sanitizer_reports(), f"no sanitizer reports: {server.sanitizer_reports()[:3]}")
    except Exception as e:  # noqa: BLE001
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if server.process is not None:
            server.stop(signal.SIGKILL)
    finish(work, log_path)


if __name__ == "__main__":
    main()
