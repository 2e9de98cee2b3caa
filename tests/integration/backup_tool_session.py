#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A StarRocks backup tool's session, end to end over PyMySQL, with every identifier quoted as
# such tools generate them: check the cluster with SHOW FRONTENDS / SHOW BACKENDS; keep run
# bookkeeping in a PRIMARY KEY table (STRING, DEFAULT CURRENT_TIMESTAMP) with INSERT and UPDATE;
# find partitions from information_schema.partitions_meta; a full BACKUP, then one of only the
# partitions whose VISIBLE_VERSION moved, polling SHOW BACKUP row 0 by position and by name;
# the timestamp from SHOW SNAPSHOT; RESTORE AS `orders_restored` and a swap by two renames;
# CHECKSUM TABLE equal to the backed-up table's.
import os
import sys
import tempfile
import time

import pymysql
import pymysql.cursors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, finish  # noqa: E402

DB, TABLE, REPO = "shop", "orders", "tool_repo"


class Session:
    """What a tool keeps: one connection, tuples by position and dicts by name."""

    def __init__(self, server):
        self.conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", password="",
                                    autocommit=True)

    def rows(self, sql):
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def dicts(self, sql):
        with self.conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql)
            return cur.fetchall()

    def run(self, sql):
        with self.conn.cursor() as cur:
            return cur.execute(sql)


def wait_job(tool, show, label, timeout=120):
    """Polls SHOW BACKUP / SHOW RESTORE as tools do: row 0 by position (State is column 4),
    then the same row by name."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = tool.rows(f"{show} FROM `{DB}`")
        if rows and rows[0][1] == label and rows[0][4 if show == "SHOW RESTORE" else 3] in ("FINISHED", "CANCELLED"):
            return tool.dicts(f"{show} FROM `{DB}`")[0]
        time.sleep(0.1)
    raise RuntimeError(f"{show} {label} did not end: {tool.rows(f'{show} FROM `{DB}`')}")


def visible_versions(tool):
    rows = tool.dicts("SELECT `PARTITION_NAME`, `VISIBLE_VERSION` FROM `information_schema`.`partitions_meta` "
                      f"WHERE `DB_NAME` = '{DB}' AND `TABLE_NAME` = '{TABLE}' ORDER BY `PARTITION_NAME`")
    return {r["PARTITION_NAME"]: int(r["VISIBLE_VERSION"]) for r in rows}


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-tool-session-")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, os.path.join(work, "data"), log_path)
    try:
        server.start()
        tool = Session(server)

        # 1. Health first.
        frontends = tool.dicts("SHOW FRONTENDS")
        check(len(frontends) == 1 and frontends[0]["Alive"] == "true" and frontends[0]["Role"] == "LEADER"
              and frontends[0]["Join"] == "true", f"SHOW FRONTENDS: one alive, joined leader: {frontends}")
        backends = tool.dicts("SHOW BACKENDS")
        check(len(backends) == 1 and backends[0]["Alive"] == "true", f"SHOW BACKENDS: one alive backend: {backends}")
        cpu = float(backends[0]["CpuUsedPct"].rstrip(" %"))
        check(0 <= cpu <= 100, f"CpuUsedPct is a share of the cores, also on the first ask after start-up: {cpu}")

        # 2. Bookkeeping on the same server.
        tool.run("CREATE DATABASE IF NOT EXISTS `backup_ops`")
        tool.run("CREATE TABLE IF NOT EXISTS `backup_ops`.`runs` (`id` BIGINT NOT NULL, `label` STRING, "
                 "`status` STRING, `started_at` DATETIME DEFAULT CURRENT_TIMESTAMP) PRIMARY KEY (`id`) "
                 "DISTRIBUTED BY HASH (`id`) BUCKETS 1 PROPERTIES (\"replication_num\" = \"1\")")
        tool.run("INSERT INTO `backup_ops`.`runs` (`id`, `label`, `status`) VALUES (1, 'full_1', 'RUNNING')")
        started = tool.rows("SELECT `started_at` FROM `backup_ops`.`runs` WHERE `id` = 1")
        check(started and started[0][0] is not None, f"started_at defaults to the current time: {started}")

        # The data the tool backs up.
        tool.run(f"CREATE DATABASE `{DB}`")
        tool.run(f"CREATE TABLE `{DB}`.`{TABLE}` (`id` INT, `day` DATE, `amount` DECIMAL(10, 2)) DUPLICATE KEY (`id`) "
                 "PARTITION BY RANGE (`day`) (PARTITION `p1` VALUES LESS THAN ('2026-02-01'), "
                 "PARTITION `p2` VALUES LESS THAN ('2026-03-01'), PARTITION `p3` VALUES LESS THAN ('2026-04-01')) "
                 "DISTRIBUTED BY HASH (`id`) BUCKETS 2")
        tool.run(f"INSERT INTO `{DB}`.`{TABLE}` VALUES (1, '2026-01-05', 10.50), (2, '2026-02-05', 20.25), "
                 "(3, '2026-03-05', 30.00)")
        location = os.path.join(work, "repo")
        os.makedirs(location)
        tool.run(f"CREATE REPOSITORY `{REPO}` WITH BROKER ON LOCATION \"{location}\"")

        # 3. Partitions from information_schema.
        before = visible_versions(tool)
        check(sorted(before) == ["p1", "p2", "p3"], f"partitions_meta lists the table's partitions: {before}")

        # 4. A full backup, polled by position and by name.
        tool.run(f"BACKUP DATABASE `{DB}` SNAPSHOT `full_1` TO `{REPO}` ON (TABLE `{TABLE}`) "
                 "PROPERTIES (\"type\" = \"full\")")
        full = wait_job(tool, "SHOW BACKUP", "full_1")
        check(full["State"] == "FINISHED" and full["SnapshotName"] == "full_1", f"the full backup finished: {full}")
        full_checksum = tool.rows(f"CHECKSUM TABLE `{DB}`.`{TABLE}`")[0][1]
        tool.run("UPDATE `backup_ops`.`runs` SET `status` = 'FINISHED' WHERE `id` = 1")
        check(tool.rows("SELECT `status` FROM `backup_ops`.`runs` WHERE `id` = 1") == (("FINISHED",),),
              "the run's bookkeeping row is updated")

        # Then a load into one partition, and a backup of what changed only.
        tool.run(f"INSERT INTO `{DB}`.`{TABLE}` VALUES (4, '2026-02-20', 40.00)")
        after = visible_versions(tool)
        changed = sorted(p for p in after if after[p] != before.get(p))
        check(changed == ["p2"], f"VISIBLE_VERSION moved for p2 only: {before} -> {after}")
        tool.run("INSERT INTO `backup_ops`.`runs` (`id`, `label`, `status`) VALUES (2, 'incr_1', 'RUNNING')")
        partitions = ", ".join(f"`{p}`" for p in changed)
        tool.run(f"BACKUP DATABASE `{DB}` SNAPSHOT `incr_1` TO `{REPO}` ON (TABLE `{TABLE}` PARTITION ({partitions}))")
        incr = wait_job(tool, "SHOW BACKUP", "incr_1")
        check(incr["State"] == "FINISHED", f"the backup of the changed partition finished: {incr}")
        tool.run("UPDATE `backup_ops`.`runs` SET `status` = 'FINISHED' WHERE `id` = 2")

        # 5. The timestamp from SHOW SNAPSHOT.
        snapshots = tool.dicts(f"SHOW SNAPSHOT ON `{REPO}` WHERE `Snapshot` = 'full_1'")
        check(len(snapshots) == 1 and snapshots[0]["Status"] == "OK", f"SHOW SNAPSHOT finds full_1: {snapshots}")
        timestamp = snapshots[0]["Timestamp"]

        # 6. A safe restore beside the live table, then the swap by two renames.
        tool.run(f"RESTORE SNAPSHOT `full_1` FROM `{REPO}` DATABASE `{DB}` ON (TABLE `{TABLE}` AS `{TABLE}_restored`) "
                 f"PROPERTIES (\"backup_timestamp\" = \"{timestamp}\", \"replication_num\" = \"1\")")
        restored = wait_job(tool, "SHOW RESTORE", "full_1")
        check(restored["State"] == "FINISHED", f"the restore finished: {restored}")
        tool.run(f"ALTER TABLE `{DB}`.`{TABLE}` RENAME `{TABLE}_old`")
        tool.run(f"ALTER TABLE `{DB}`.`{TABLE}_restored` RENAME `{TABLE}`")
        tables = sorted(r[0] for r in tool.rows(f"SHOW TABLES FROM `{DB}`"))
        check(tables == [TABLE, f"{TABLE}_old"], f"after the swap: {tables}")

        # 7. The swapped-in table is the backed-up one.
        check(tool.rows(f"CHECKSUM TABLE `{DB}`.`{TABLE}`")[0][1] == full_checksum,
              "CHECKSUM TABLE of the swapped-in table equals the full backup's")
        check(tool.rows(f"SELECT count(*) FROM `{DB}`.`{TABLE}`") == ((3,),), "it has the 3 rows of the full backup")
        runs = tool.rows("SELECT `id`, `label`, `status` FROM `backup_ops`.`runs` ORDER BY `id`")
        check(runs == ((1, "full_1", "FINISHED"), (2, "incr_1", "FINISHED")), f"the bookkeeping: {runs}")
        check(not server.sanitizer_reports(), f"no sanitizer reports: {server.sanitizer_reports()[:3]}")
    finally:
        if server.process is not None:
            server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
