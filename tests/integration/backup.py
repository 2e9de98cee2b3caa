#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# BACKUP end to end on a local repository, through a real server and the MySQL protocol:
# every ON kind in both syntaxes over every key model and RANGE/LIST partitions; SHOW BACKUP's
# and SHOW SNAPSHOT's columns and formats; what the repository holds (info written last, the
# meta, a manifest whose entries point at the exact bytes of each segment file, small files in
# packs); incremental backups that upload nothing unchanged; StarRocks' errors; the one-job
# rule; CANCEL and timeout; snapshot isolation against a load, DROP TABLE refused meanwhile; privileges.
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (SHOW_BACKUP_COLUMNS, backup_of, backups, check, columns_of, connect, data_objects,  # noqa: E402
                              error_of, finish, manifest_of, query, released, repo_root, segment_files, segment_of,
                              snapshot_objects, stored_bytes, wait_for)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-\d{3}$")
DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def make_schema(conn):
    for sql in [
        "CREATE DATABASE d1",
        "USE d1",
        "CREATE TABLE dup (k INT, v VARCHAR(32)) DUPLICATE KEY(k) "
        "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2",
        "CREATE TABLE city (id INT, city VARCHAR(16)) UNIQUE KEY(id, city) "
        "PARTITION BY LIST(city) (PARTITION pe VALUES IN (\"paris\", \"lyon\"), PARTITION pw VALUES IN (\"nyc\")) "
        "DISTRIBUTED BY HASH(id) BUCKETS 2",
        "CREATE TABLE agg (k INT NOT NULL, total BIGINT SUM) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
        "CREATE TABLE pk (k INT NOT NULL, v INT) PRIMARY KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3",
        "INSERT INTO dup VALUES (1, 'a'), (50, 'b'), (150, 'c'), (999, 'd')",
        "INSERT INTO city VALUES (1, 'paris'), (2, 'lyon'), (3, 'nyc')",
        "INSERT INTO agg VALUES (1, 10), (1, 5), (2, 7)",
        "INSERT INTO pk VALUES (1, 1), (2, 2), (1, 3)",
        "CREATE VIEW v_dup AS SELECT k FROM dup WHERE k > 10",
        "CREATE MATERIALIZED VIEW mv_agg DISTRIBUTED BY HASH(k) BUCKETS 1 REFRESH MANUAL AS "
        "SELECT k, SUM(total) AS s FROM agg GROUP BY k",
        "CREATE FUNCTION my_add(INT, INT) RETURNS INT PROPERTIES "
        "(\"symbol\" = \"com.example.Add\", \"type\" = \"StarrocksJar\", \"file\" = \"http://repo/udf.jar\")",
    ]:
        query(conn, sql)


def check_show_backup_formats(conn, row, label, objs):
    names, _ = columns_of(conn, "SHOW BACKUP FROM d1")
    check(names == SHOW_BACKUP_COLUMNS, f"SHOW BACKUP has StarRocks' 14 columns then ours: {names}")
    check(row["JobId"].isdigit() and row["SnapshotName"] == label and row["DbName"] == "d1",
          f"JobId, SnapshotName, DbName: {row}")
    check(row["State"] == "FINISHED" and row["Status"] == "[OK]", f"FINISHED with [OK]: {row['State']} {row['Status']}")
    check(row["BackupObjs"] == objs, f"BackupObjs is {objs!r}: {row['BackupObjs']!r}")
    check(all(DATETIME.match(row[c] or "") for c in
              ["CreateTime", "SnapshotFinishedTime", "UploadFinishedTime", "FinishedTime"]),
          f"times are yyyy-MM-dd HH:mm:ss: {[row[c] for c in ['CreateTime', 'FinishedTime']]}")
    check(row["CreateTime"] <= row["SnapshotFinishedTime"] <= row["UploadFinishedTime"] <= row["FinishedTime"],
          "times are in state order")
    check(row["UnfinishedTasks"] == "" and row["Progress"] == "" and row["TaskErrMsg"] == "",
          "no unfinished tasks, progress or task errors")
    check(row["Timeout"] == "86400", f"Timeout is backup_job_default_timeout in seconds: {row['Timeout']}")
    check(row["BytesDone"] == row["BytesTotal"] and int(row["BytesTotal"]) > 0
          and row["FilesDone"] == row["FilesTotal"] and int(row["FilesTotal"]) > 0,
          f"all bytes and files done: {row['BytesDone']}/{row['BytesTotal']} {row['FilesDone']}/{row['FilesTotal']}")
    check(row["CurrentRate"] is None and row["RateLimit"] is None and row["Eta"] is None,
          "no rate, limit or ETA once finished")


def check_repository(location, data_dir, label):
    objects = snapshot_objects(location, "repo", label)
    kinds = sorted(re.sub(r"_\d{4}(-\d+)+\.[0-9a-f]{32}$", "", n) for n in objects)
    check(kinds == ["__info", "__manifest", "__meta"], f"the snapshot holds info, meta and manifest: {objects}")
    manifest = manifest_of(location, "repo", label)
    check(manifest["complete"] is True and manifest["label"] == label and TIMESTAMP.match(manifest["timestamp"]),
          f"the manifest is complete and names its snapshot: {manifest['label']} {manifest['timestamp']}")
    segments = segment_files(data_dir)
    exact = [f["name"] for f in manifest["files"] if segment_of(segments, f) == stored_bytes(location, f)]
    check(len(exact) == len(manifest["files"]) and len(exact) > 0,
          f"every manifest entry points at the exact bytes of its segment file ({len(exact)}/{len(manifest['files'])})")
    check(all(f["packed"] for f in manifest["files"]), "small segment files are packed")
    check(all(re.match(r"^[0-9a-f]{32}$", f["xxh3_128"]) for f in manifest["files"]), "each with its XXH3-128")
    info_name = [n for n in objects if n.startswith("__info_")][0]
    with open(os.path.join(repo_root(location, "repo"), f"__ss_{label}", info_name)) as f:
        info = json.load(f)
    check(info["name"] == label and info["database"] == "d1" and info["backup_result"] == "succeed",
          f"the job info has StarRocks' fields: {sorted(info)}")
    return manifest


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-backup-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, ["--set", "backup_pack_threshold=1M"])
    try:
        server.start()
        conn = connect(server)
        make_schema(conn)
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')

        # The whole database, v3.4 syntax.
        query(conn, "BACKUP DATABASE d1 SNAPSHOT full1 TO repo")
        first = backup_of(conn, "d1")
        check(first is not None and first["SnapshotName"] == "full1",
              f"the job is SHOW BACKUP's row as soon as BACKUP returns: {first}")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"})
        check_show_backup_formats(conn, row, "full1",
                                  "[d1.agg], [d1.city], [d1.dup], [d1.pk], [d1.mv_agg], [d1.v_dup], [d1.my_add]")
        manifest = check_repository(location, data_dir, "full1")
        tables = sorted({f["table"] for f in manifest["files"]})
        check(tables == ["agg", "city", "dup", "pk"], f"files of every key model: {tables}")
        check(sorted({f["partition"] for f in manifest["files"] if f["table"] == "city"}) == ["pe", "pw"],
              "LIST partitions")

        # SHOW SNAPSHOT and its WHERE forms.
        names, rows = columns_of(conn, "SHOW SNAPSHOT ON repo")
        check(names == ["Snapshot", "Timestamp", "Status", "ExpireTime"] and len(rows) == 1 and rows[0][0] == "full1"
              and TIMESTAMP.match(rows[0][1]) and rows[0][2] == "OK", f"SHOW SNAPSHOT: {names} {rows}")
        ts = rows[0][1]
        names, rows = columns_of(conn, f"SHOW SNAPSHOT ON repo WHERE Snapshot = 'full1' AND TIMESTAMP = '{ts}'")
        check(names == ["Snapshot", "Timestamp", "Database", "Details", "Status", "ExpireTime"] and rows[0][2] == "d1"
              and rows[0][4] == "OK", f"with a timestamp: Database and Details: {names} {rows}")
        details = json.loads(rows[0][3])
        check(details["name"] == "full1" and "dup" in details["backup_objects"]
              and rows[0][3].startswith("{\n \""), f"Details is the brief JSON, indent 1: {rows[0][3][:60]!r}")
        rows = query(conn, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT IN ('full1', 'nothere')")
        check(sorted(rows) == [("full1", ts, "OK", None), ("nothere", None, "ERROR: no snapshot", None)],
              f"SNAPSHOT IN (...): {rows}")
        err = error_of(conn, f"SHOW SNAPSHOT ON repo WHERE TIMESTAMP = '{ts}'")
        check(err is not None and err[1] == "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' "
              "[AND TIMESTAMP = '2018-04-18-19-19-10']", f"TIMESTAMP alone is refused: {err}")

        # Incremental: unchanged data uploads nothing.
        before = data_objects(location, "repo")
        query(conn, "BACKUP DATABASE d1 SNAPSHOT again TO repo")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"})
        check(row["State"] == "FINISHED", f"the second backup finished: {row['Status']}")
        check(data_objects(location, "repo") == before, "a second backup of unchanged data uploads no data object")
        query(conn, "INSERT INTO dup VALUES (7, 'new')")
        query(conn, "BACKUP SNAPSHOT d1.more TO repo ON (dup)")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"})
        after = data_objects(location, "repo")
        added = sorted(set(after) - set(before))
        check(all(after[k] == before[k] for k in before), "objects already stored are not written again")
        check(len(added) == 1 and "__packs/" in added[0], f"after one load only its new file is uploaded: {added}")
        more = manifest_of(location, "repo", "more")
        new_files = [f for f in more["files"] if f["key"].endswith(added[0])]
        check(len(new_files) == 1 and new_files[0]["rows"] == 1, f"the new pack holds the new file: {new_files}")

        # The old syntax with partitions, and v3.4 object kinds.
        query(conn, "BACKUP SNAPSHOT d1.parts TO repo ON (dup PARTITION (p2), city)")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"})
        check(row["BackupObjs"] == "[d1.dup PARTITION (p2)], [d1.city]", f"old form BackupObjs: {row['BackupObjs']}")
        parts = manifest_of(location, "repo", "parts")
        check({(f["table"], f["partition"]) for f in parts["files"]} ==
              {("dup", "p2"), ("city", "pe"), ("city", "pw")}, "only the chosen partitions")
        query(conn, "BACKUP DATABASE d1 SNAPSHOT kinds TO repo ON (TABLE agg, MATERIALIZED VIEW mv_agg, "
                    "VIEW v_dup, FUNCTION my_add)")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"})
        check(row["State"] == "FINISHED" and row["BackupObjs"] ==
              "[d1.agg], [d1.mv_agg], [d1.v_dup], [d1.my_add]", f"ON kinds: {row['BackupObjs']}")
        query(conn, "BACKUP DATABASE d1 SNAPSHOT alltables TO repo ON (ALL TABLES)")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"})
        check(row["State"] == "FINISHED", f"ON (ALL TABLES): {row['BackupObjs']}")

        # StarRocks' errors at submission; nothing is journaled for them.
        for sql, expected in [
            ("BACKUP DATABASE d1 SNAPSHOT full1 TO repo", "Snapshot with name 'full1' already exist in repository"),
            ("BACKUP DATABASE d1 SNAPSHOT x TO nosuch", "Repository nosuch does not exist"),
            ("BACKUP DATABASE d1 SNAPSHOT x TO repo ON (TABLE nosuch)", "Unknown table"),
            ("BACKUP DATABASE d1 SNAPSHOT x TO repo ON (TABLE dup PARTITION (p9))", "Unknown partition p9 in tabledup"),
            ("BACKUP DATABASE d1 SNAPSHOT x TO repo ON (FUNCTION nofunc)", "Invalid backup function(s), function name: nofunc"),
            ("BACKUP DATABASE d1 SNAPSHOT x TO repo PROPERTIES ('colour' = 'red')", "Unknown backup job properties: [colour]"),
        ]:
            err = error_of(conn, sql)
            check(err is not None and expected in err[1], f"{sql}: {err}")
        # READ ONLY: a repository made elsewhere, adopted read-only.
        other = os.path.join(work, "other")
        query(conn, f'CREATE REPOSITORY ro WITH BROKER ON LOCATION "{other}"')
        query(conn, "DROP REPOSITORY ro")
        query(conn, f'CREATE READ ONLY REPOSITORY ro WITH BROKER ON LOCATION "{other}"')
        err = error_of(conn, "BACKUP DATABASE d1 SNAPSHOT x TO ro")
        check(err is not None and err[1] == "Repository ro is read only", f"a READ ONLY repository: {err}")

        # One job per database; CANCEL within a second; the label stays taken without info. New
        # rows first, or the backup would reuse every file and have nothing to upload.
        query(conn, "INSERT INTO dup VALUES " + ", ".join(f"({i}, '{'s' * 30}')" for i in range(100, 900)))
        query(conn, "BACKUP DATABASE d1 SNAPSHOT slow TO repo PROPERTIES ('max_upload_speed_kbps' = '4')")
        running = wait_for(conn, "d1", {"UPLOADING"})
        check(running["RateLimit"] == "4", f"RateLimit shows the job's limit in KB/s: {running['RateLimit']}")
        time.sleep(3)
        running = backup_of(conn, "d1")
        check(running["CurrentRate"] is not None and 2048 <= int(running["CurrentRate"]) <= 8192,
              f"CurrentRate shows the achieved rate (bytes/s) next to the limit: {running['CurrentRate']}")
        check(running["Eta"] is not None and int(running["Eta"]) > 0 and
              int(running["BytesDone"]) < int(running["BytesTotal"]),
              f"Eta and progress while uploading: {running['Eta']} s, {running['BytesDone']}/{running['BytesTotal']}")
        err = error_of(conn, "BACKUP DATABASE d1 SNAPSHOT other TO repo")
        check(err is not None and err[1] == "Can only run one backup or restore job of a database at same time",
              f"one job per database: {err}")
        err = error_of(conn, "DROP REPOSITORY repo")
        check(err is not None and err[1] == "Backup or restore job is running on this repository. Can not drop it",
              f"DROP REPOSITORY is refused while a job uses it: {err}")
        started = time.time()
        query(conn, "CANCEL BACKUP FROM d1")
        row = wait_for(conn, "d1", {"CANCELLED"}, timeout=5)
        check(time.time() - started < 1.5, f"CANCEL takes effect within a second ({time.time() - started:.2f} s)")
        check(row["Status"] == "[COMMON_ERROR, msg: user cancelled]", f"Status after CANCEL: {row['Status']}")
        check(released(os.path.join(data_dir, "snapshot", row["JobId"])), "the snapshot links are released")
        check(not [n for n in snapshot_objects(location, "repo", "slow") if n.startswith("__info_")],
              "a cancelled backup writes no info object")
        check(query(conn, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'slow'") ==
              (("slow", None, "ERROR: no snapshot", None),),
              "SHOW SNAPSHOT lists the cancelled label as not a snapshot")
        err = error_of(conn, "CANCEL BACKUP FROM d1")
        check(err is not None and err[1] == "No backup job is currently running", f"nothing left to cancel: {err}")

        # Timeout.
        query(conn, "INSERT INTO dup VALUES " + ", ".join(f"({i}, '{'t' * 30}')" for i in range(100, 900)))
        query(conn, "BACKUP DATABASE d1 SNAPSHOT late TO repo PROPERTIES ('timeout' = '1', 'max_upload_speed_kbps' = '1')")
        row = wait_for(conn, "d1", {"CANCELLED", "FINISHED"}, timeout=30)
        check(row["State"] == "CANCELLED" and row["Status"].startswith("[TIMEOUT, msg: "),
              f"a job past its timeout is cancelled with TIMEOUT: {row['Status']}")

        # Snapshot isolation: a load during UPLOADING changes nothing in it (a DROP TABLE is refused).
        query(conn, "CREATE TABLE iso (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, "CREATE TABLE gone (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        query(conn, "INSERT INTO iso VALUES " + ", ".join(f"({i}, '{'x' * 60}')" for i in range(400)))
        query(conn, "INSERT INTO gone VALUES (1), (2), (3)")
        query(conn, "BACKUP DATABASE d1 SNAPSHOT iso1 TO repo ON (TABLE iso, TABLE gone) "
                    "PROPERTIES ('max_upload_speed_kbps' = '4')")
        wait_for(conn, "d1", {"UPLOADING"})
        query(conn, "INSERT INTO iso VALUES (1000, 'after')")
        err = error_of(conn, "DROP TABLE gone")
        check(err is not None and "Table [gone] is under BACKUP job 'iso1'" in err[1],
              f"DROP TABLE of a table the backup holds is refused: {err}")
        row = wait_for(conn, "d1", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "FINISHED", f"the backup finished despite the load: {row['Status']}")
        query(conn, "DROP TABLE gone")
        iso = manifest_of(location, "repo", "iso1")
        check(sum(f["rows"] for f in iso["files"] if f["table"] == "iso") == 400,
              "the backup holds exactly the snapshot's rows, not the later load's")
        check(sum(f["rows"] for f in iso["files"] if f["table"] == "gone") == 3,
              "a table whose DROP was refused during the upload is in the backup whole")
        check(all(len(stored_bytes(location, f)) == f["size"] for f in iso["files"]), "its bytes are all stored")

        # External catalogs: their own job, apart from the databases'.
        query(conn, 'CREATE EXTERNAL CATALOG hive_prod PROPERTIES ("type" = "hive", '
                    '"hive.metastore.uris" = "thrift://metastore:9083")')
        query(conn, "BACKUP EXTERNAL CATALOG (hive_prod) SNAPSHOT cats TO repo")
        rows = [r for r in backups(conn) if r["SnapshotName"] == "cats"]
        check(len(rows) == 1 and rows[0]["DbName"] == "", f"SHOW BACKUP lists the external-catalog job: {rows}")
        deadline = time.time() + 30
        while time.time() < deadline and rows[0]["State"] not in ("FINISHED", "CANCELLED"):
            time.sleep(0.05)
            rows = [r for r in backups(conn) if r["SnapshotName"] == "cats"]
        check(rows[0]["State"] == "FINISHED" and rows[0]["BackupObjs"] == "[hive_prod]",
              f"an external catalog backed up: {rows[0]['State']} {rows[0]['BackupObjs']}")
        ts = query(conn, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'cats'")[0][1]
        row = query(conn, f"SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'cats' AND TIMESTAMP = '{ts}'")[0]
        check(row[2] == "" and json.loads(row[3]).get("catalogs") == ["hive_prod"] and row[4] == "OK",
              f"its snapshot names the catalog and no database: {row}")
        err = error_of(conn, "CANCEL BACKUP FOR EXTERNAL CATALOG")
        check(err is not None and err[1] == "No backup job is currently running",
              f"CANCEL BACKUP FOR EXTERNAL CATALOG with nothing running: {err}")
        err = error_of(conn, "BACKUP EXTERNAL CATALOG (nocat) SNAPSHOT c2 TO repo")
        check(err is not None and err[1] == "external catalog nocat does not existed.", f"an unknown catalog: {err}")

        # Only root and db_admin.
        query(conn, "CREATE USER plain IDENTIFIED BY 'pw'")
        user = connect(server, "plain", "pw")
        for sql in ["BACKUP DATABASE d1 SNAPSHOT u TO repo", "SHOW BACKUP FROM d1", "CANCEL BACKUP FROM d1",
                    "SHOW SNAPSHOT ON repo"]:
            err = error_of(user, sql)
            check(err is not None and err[0] in (1227, 1044, 1045), f"a user without db_admin: {sql}: {err}")

        # The last job per database survives a restart.
        last = backup_of(conn, "d1")
        server.stop()
        server.start()
        conn = connect(server)
        check(backup_of(conn, "d1") == last, "the last job of the database is still shown after a restart")
        check(server.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
