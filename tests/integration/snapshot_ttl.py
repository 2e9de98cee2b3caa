#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Snapshot TTL end to end on a local repository: BACKUP PROPERTIES ("ttl" = ...) refuses bad
# values naming the property and creates nothing; the expiry is in the snapshot's info object
# (none without ttl) and SHOW SNAPSHOT shows it as ExpireTime; with a short ttl and a 1 s sweep
# the snapshot disappears, its own data objects are freed, and a snapshot sharing its objects
# still restores with equal CHECKSUM TABLE. Snapshots without ttl or with a long one stay, an
# expired snapshot in a READ ONLY repository is left alone, and the interval changes live (0: off).
import datetime
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (check, columns_of, connect, data_objects, error_of, finish, log_shows,  # noqa: E402
                              query, repo_root, wait_for)
from drop_snapshot import referenced, wait_no_leases  # noqa: E402
from restore_test_util import fingerprint, insert_rows, run_restore  # noqa: E402

# Wide rows: each file is an object of its own. A 1 s sweep, no grace period.
FLAGS = ["--set", "backup_pack_threshold=1K", "--set", "snapshot_gc_grace_period=0",
         "--set", "repository_lease_timeout=3", "--set", "snapshot_ttl_check_interval_seconds=1"]
SHORT_TTL_S = 6


def backup(conn, location, repo, label, on, ttl=None):
    props = f' PROPERTIES ("ttl" = "{ttl}")' if ttl is not None else ""
    query(conn, f"BACKUP SNAPSHOT d.{label} TO {repo} ON ({on}){props}")
    row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
    check(row["State"] == "FINISHED", f"backup {label} finished: {row['Status']}")
    check(wait_no_leases(location, repo=repo), f"backup {label} released its lease")
    return row


def info_of(location, repo, label):
    folder = os.path.join(repo_root(location, repo), f"__ss_{label}")
    names = [n for n in os.listdir(folder) if n.startswith("__info_")]
    with open(os.path.join(folder, names[0])) as f:
        return json.load(f)


def snapshots(conn, repo="repo"):
    names, rows = columns_of(conn, f"SHOW SNAPSHOT ON {repo}")
    return names, {r[0]: dict(zip(names, r)) for r in rows}


def seconds_between(later, earlier):
    fmt = "%Y-%m-%d %H:%M:%S"
    return (datetime.datetime.strptime(later, fmt) - datetime.datetime.strptime(earlier, fmt)).total_seconds()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-ttl-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, FLAGS)
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        for t in ("big", "other"):
            query(conn, f"CREATE TABLE {t} (k INT, v VARCHAR(512)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        insert_rows(conn, "big", 0, 200, 300, seed=1)
        insert_rows(conn, "other", 0, 50, 300, seed=3)

        for bad in ("7 WEEK", "seven DAY", "0 DAY", "-1 HOUR", "7", "1.5 DAY"):
            err = error_of(conn, f'BACKUP SNAPSHOT d.bad TO repo ON (big) PROPERTIES ("ttl" = "{bad}")')
            check(err is not None and f"Invalid ttl: '{bad}'" in err[1] and "SECOND, MINUTE, HOUR or DAY" in err[1],
                  f'ttl "{bad}" refused naming the property: {err}')
        check("bad" not in snapshots(conn)[1], "a refused BACKUP wrote nothing")

        # forever: no ttl. short: shares forever's objects and has one of its own, expires soon.
        # long: "2 days" (plural, lower case).
        backup(conn, location, "repo", "forever", "big")
        fp_forever = fingerprint(conn, "d.big")
        insert_rows(conn, "big", 1000, 200, 300, seed=2)
        before_short = set(data_objects(location, "repo"))
        short_row = backup(conn, location, "repo", "short", "big", ttl=f"{SHORT_TTL_S} SECOND")
        only_short = set(data_objects(location, "repo")) - before_short
        names, listed = snapshots(conn)
        check(names == ["Snapshot", "Timestamp", "Status", "ExpireTime"], f"SHOW SNAPSHOT's columns: {names}")
        check(listed["forever"]["ExpireTime"] is None, f"a snapshot without ttl never expires: {listed['forever']}")
        expire = listed.get("short", {}).get("ExpireTime")
        gap = seconds_between(expire, short_row["FinishedTime"]) if expire else None
        check(gap is not None and SHORT_TTL_S - 1 <= gap <= SHORT_TTL_S + 1,
              f"short expires {SHORT_TTL_S} s after it finished ({short_row['FinishedTime']}): {expire}")
        check(len(only_short) >= 1, f"short has data objects of its own: {sorted(only_short)}")
        check("expire_time" not in info_of(location, "repo", "forever"), "no expire_time in forever's info object")
        info = info_of(location, "repo", "short")
        check(isinstance(info.get("expire_time"), int) and info["expire_time"] > info["backup_time"],
              f"short's info object holds its expiry: {info.get('expire_time')}")
        ts = listed["short"]["Timestamp"]
        names, rows = columns_of(conn, f"SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'short' AND TIMESTAMP = '{ts}'")
        check(names[-1] == "ExpireTime" and rows and rows[0][-1] == expire,
              f"the detailed form ends with ExpireTime {expire}: {names} {rows[0][-1] if rows else None}")

        long_row = backup(conn, location, "repo", "long", "other", ttl="2 days")
        long_expire = snapshots(conn)[1]["long"]["ExpireTime"]
        check(long_expire is not None and abs(seconds_between(long_expire, long_row["FinishedTime"]) - 2 * 86400) <= 1,
              f"long expires two days after it finished: {long_expire}")

        # An expired snapshot in a READ ONLY repository stays: it is written through "ro_w", which
        # then becomes READ ONLY at the same location.
        ro_location = os.path.join(work, "ro")
        query(conn, f'CREATE REPOSITORY ro WITH BROKER ON LOCATION "{ro_location}"')
        backup(conn, ro_location, "ro", "ro_short", "big", ttl="3 SECOND")
        query(conn, "DROP REPOSITORY ro")
        query(conn, f'CREATE READ ONLY REPOSITORY ro WITH BROKER ON LOCATION "{ro_location}"')

        deadline = time.time() + 60
        while "short" in snapshots(conn)[1] and time.time() < deadline:
            time.sleep(0.2)
        left = snapshots(conn)[1]
        check("short" not in left, f"the expired snapshot is dropped by the sweep: {sorted(left)}")
        check("forever" in left and "long" in left, f"snapshots without ttl or not yet expired stay: {sorted(left)}")
        check(wait_no_leases(location), "the sweep released its drop lease")
        objects = set(data_objects(location, "repo"))
        check(not (only_short & objects), f"short's own objects are freed: {sorted(only_short & objects)}")
        check(referenced(location) <= objects, "every object a remaining manifest names is still there")
        intents = [f for _, _, files in os.walk(os.path.join(repo_root(location, "repo"), "__dropping")) for f in files]
        check(intents == [], f"no drop is left unfinished: {intents}")
        check(log_shows(log_path, "snapshot ttl: repository repo: dropped 1 expired snapshot(s) [short ("),
              "the server log says what the sweep dropped")

        _, row = run_restore(conn, "RESTORE SNAPSHOT d.forever FROM repo ON (big AS big_r) PROPERTIES "
                                   f"(\"backup_timestamp\" = \"{left['forever']['Timestamp']}\")", "d", timeout=120)
        check(row["State"] == "FINISHED", f"forever (sharing short's objects) restores: {row['Status']}")
        check(fingerprint(conn, "d.big_r") == fp_forever, "forever restores with its backed-up CHECKSUM TABLE")

        time.sleep(3)  # several sweep rounds
        check("ro_short" in snapshots(conn, "ro")[1], "an expired snapshot in a READ ONLY repository stays")

        # The interval can be changed live; 0 turns the sweep off.
        query(conn, 'ADMIN SET FRONTEND CONFIG ("snapshot_ttl_check_interval_seconds" = "0")')
        backup(conn, location, "repo", "paused", "other", ttl="1 SECOND")
        time.sleep(4)
        check("paused" in snapshots(conn)[1], "with the sweep off, an expired snapshot stays")
        query(conn, 'ADMIN SET FRONTEND CONFIG ("snapshot_ttl_check_interval_seconds" = "1")')
        deadline = time.time() + 30
        while "paused" in snapshots(conn)[1] and time.time() < deadline:
            time.sleep(0.2)
        check("paused" not in snapshots(conn)[1], "turned back on, the sweep drops it")

        check(server.stop() == 0, "the server stops cleanly with the sweep running")
        check(server.sanitizer_reports() == [], f"no sanitizer reports: {server.sanitizer_reports()[:3]}")
    finally:
        if server.process is not None:
            server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
