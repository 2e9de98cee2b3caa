#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# What a backup tool reads before it backs up, checked against the machine itself: SHOW
# FRONTENDS' ports answer (the HTTP port serves /api/health), its ClusterId is the data dir's;
# SHOW BACKENDS' TabletNum, DataUsedCapacity and capacities equal the tablets and segment bytes on
# disk and statvfs of the data dir; information_schema.partitions_meta's DATA_SIZE and ROW_COUNT
# are the partition's files and rows, and its VISIBLE_VERSION finds exactly the partitions a load
# changed, also after a restart.
import os
import shutil
import sys
import tempfile
import urllib.request

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import FAILURES, check  # noqa: E402
from tvserver import TvServer  # noqa: E402


def connect(server):
    return pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)


def rows_as_dicts(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def parse_capacity(text):
    """ "1.442 KB" -> bytes (approximately: three decimals of the unit)."""
    number, unit = text.split(" ")
    return float(number) * 1024 ** ["B", "KB", "MB", "GB", "TB", "PB"].index(unit)


def capacity_text(n):
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    value, unit = float(n), 0
    while value >= 1024 and unit + 1 < len(units):
        value /= 1024
        unit += 1
    return f"{value:.3f} {units[unit]}"


def tablet_bytes(data_dir, tablet_ids=None):
    total = 0
    root = os.path.join(data_dir, "storage", "data")
    for tablet in os.listdir(root):
        if tablet_ids is not None and int(tablet) not in tablet_ids:
            continue
        for name in os.listdir(os.path.join(root, tablet)):
            total += os.path.getsize(os.path.join(root, tablet, name))
    return total


def versions(conn):
    return {(r["TABLE_NAME"], r["PARTITION_NAME"]): (r["VISIBLE_VERSION"], r["VISIBLE_VERSION_TIME"])
            for r in rows_as_dicts(conn, "SELECT * FROM information_schema.partitions_meta WHERE DB_NAME = 'ops'")}


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-cluster-info-")
    data_dir = os.path.join(work, "data")
    server = TvServer(binary, data_dir, os.path.join(work, "server.log"))
    try:
        server.start()
        conn = connect(server)

        fe = rows_as_dicts(conn, "SHOW FRONTENDS")
        check(len(fe) == 1, "one frontend")
        fe = fe[0]
        check(fe["QueryPort"] == str(server.mysql_port), f"QueryPort {fe['QueryPort']} is the MySQL port")
        check(fe["HttpPort"] == str(server.http_port), f"HttpPort {fe['HttpPort']} is the HTTP port")
        with urllib.request.urlopen(f"http://127.0.0.1:{fe['HttpPort']}/api/health", timeout=10) as r:
            check(r.status == 200, "the HttpPort shown serves /api/health")
        with open(os.path.join(data_dir, "cluster_id")) as f:
            cluster_id = f.read().strip()
        check(fe["ClusterId"] == cluster_id, f"ClusterId {fe['ClusterId']} is the data dir's ({cluster_id})")
        check((fe["Role"], fe["Join"], fe["Alive"], fe["IsHelper"]) == ("LEADER", "true", "true", "true"),
              "the leader, joined and alive")

        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE ops")
            cur.execute("CREATE TABLE ops.events (id BIGINT NOT NULL, v BIGINT) DUPLICATE KEY(id) "
                        "PARTITION BY RANGE(id) (PARTITION p_low VALUES LESS THAN ('100000'), "
                        "PARTITION p_high VALUES LESS THAN ('10000000')) DISTRIBUTED BY HASH(id) BUCKETS 4")
            cur.execute("CREATE TABLE ops.history (id BIGINT NOT NULL, label STRING) PRIMARY KEY(id) "
                        "DISTRIBUTED BY HASH(id) BUCKETS 3")
            cur.execute("INSERT INTO ops.events SELECT generate_series, generate_series * 3 "
                        "FROM TABLE(generate_series(1, 300000))")
            cur.execute("INSERT INTO ops.history VALUES (1, 'first')")

        be = rows_as_dicts(conn, "SHOW BACKENDS")[0]
        check(be["TabletNum"] == "11", f"TabletNum {be['TabletNum']} is 2 x 4 + 3 tablets")
        on_disk = tablet_bytes(data_dir)
        check(be["DataUsedCapacity"] == capacity_text(on_disk),
              f"DataUsedCapacity {be['DataUsedCapacity']} is the {on_disk} bytes of tablet files")
        fs = os.statvfs(data_dir)
        check(be["TotalCapacity"] == capacity_text(fs.f_blocks * fs.f_frsize),
              f"TotalCapacity {be['TotalCapacity']} is statvfs' size of the data dir's file system")
        avail = fs.f_bavail * fs.f_frsize
        check(abs(parse_capacity(be["AvailCapacity"]) - avail) <= max(0.01 * avail, 64 << 20),
              f"AvailCapacity {be['AvailCapacity']} is what statvfs says is free ({capacity_text(avail)})")
        check(be["Alive"] == "true" and be["HttpPort"] == str(server.http_port), "alive, on the HTTP port")
        check(rows_as_dicts(conn, "SHOW PROC '/backends'")[0]["TabletNum"] == be["TabletNum"],
              "SHOW PROC '/backends' gives the same row")

        # DATA_SIZE and ROW_COUNT per partition are its files and rows.
        for part, where in (("p_low", "id < 100000"), ("p_high", "id >= 100000")):
            meta = rows_as_dicts(conn, "SELECT * FROM information_schema.partitions_meta "
                                       f"WHERE TABLE_NAME = 'events' AND PARTITION_NAME = '{part}'")[0]
            tablets = {int(r["TabletId"]) for r in
                       rows_as_dicts(conn, f"SHOW TABLET FROM ops.events PARTITION ({part})")}
            size = tablet_bytes(data_dir, tablets)
            check(int(meta["DATA_SIZE"]) == size, f"{part}: DATA_SIZE {meta['DATA_SIZE']} is its {size} file bytes")
            count = rows_as_dicts(conn, f"SELECT count(*) AS n FROM ops.events WHERE {where}")[0]["n"]
            check(int(meta["ROW_COUNT"]) == int(count), f"{part}: ROW_COUNT {meta['ROW_COUNT']} is {count}")

        # A tool's incremental step: compare versions before and after, back up what moved.
        before = versions(conn)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO ops.events VALUES (5000000, 1), (5000001, 2)")
        after = versions(conn)
        changed = sorted(k for k in after if after[k][0] != before[k][0])
        check(changed == [("events", "p_high")], f"only events.p_high changed: {changed}")
        check(after[("events", "p_high")][0] == before[("events", "p_high")][0] + 1,
              "its VISIBLE_VERSION went up by one")
        check(after[("events", "p_high")][1] is not None, "and has a VISIBLE_VERSION_TIME")
        conn.close()

        server.stop()
        server.start()
        conn = connect(server)
        check(versions(conn) == after, "versions and their times are the same after a restart")
        fe2 = rows_as_dicts(conn, "SHOW FRONTENDS")[0]
        check(fe2["ClusterId"] == cluster_id and fe2["QueryPort"] == str(server.mysql_port),
              "after a restart: the same ClusterId, the new port")
        check(rows_as_dicts(conn, "SHOW BACKENDS")[0]["TabletNum"] == "11", "and the same tablets")
        conn.close()
        server.stop()
        reports = server.sanitizer_reports()
        check(reports == [], "no sanitizer reports: " + "; ".join(reports[:3]))
    finally:
        server.stop()
        if FAILURES:
            print(open(os.path.join(work, "server.log")).read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
