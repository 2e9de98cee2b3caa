#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# RESTORE end to end on a local repository, through real servers and the MySQL protocol: every
# RESTORE form (v3.4 and old, PROPERTIES, external catalogs); data equal to the backed-up data
# for every key model with RANGE and LIST partitions, several rowsets, packed and unpacked files;
# overwriting, adding and refusing partitions of existing tables; renames; views, materialized
# views, functions and catalogs; snapshot isolation; a damaged repository; loads and DDL while a
# restore holds a table; SHOW RESTORE's columns and StarRocks' errors; restoring on a second server.
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (check, columns_of, connect, error_of, finish, manifest_of, query, repo_root,  # noqa: E402
                              segment_files, snapshot_objects, wait_for)
from restore_test_util import (SHOW_RESTORE_COLUMNS, TABLES, Damage, catalogs, check_cancelled,  # noqa: E402
                               check_finished, checksum, content, create_text, functions_of, mv_rows, mv_state,
                               racing_loads, restart, restore_of, rows_of, run_restore, staging_left,
                               stream_load_code, view_text, wait_restore)

DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
MISMATCH = {
    "mt_type": ("CREATE TABLE mt_type (k INT, v VARCHAR(32)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                "(PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
                "DISTRIBUTED BY HASH(k) BUCKETS 2",
                "Table mt_type already exist but column: v VARCHAR(32) in existed table is different from the "
                "column in backup snapshot, column: v VARCHAR(64)"),
    "mt_key": ("CREATE TABLE mt_key (k INT, v VARCHAR(64)) UNIQUE KEY(k) PARTITION BY RANGE(k) "
               "(PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
               "DISTRIBUTED BY HASH(k) BUCKETS 2",
               "Table mt_key already exist but with different key type"),
    "mt_range": ("CREATE TABLE mt_range (k INT, v VARCHAR(64)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                 "(PARTITION p1 VALUES LESS THAN (\"50\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
                 "DISTRIBUTED BY HASH(k) BUCKETS 2",
                 "Partition p1 in table mt_range has different range with partition in repository"),
    "mt_dist": ("CREATE TABLE mt_dist (k INT, v VARCHAR(64)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                "(PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
                "DISTRIBUTED BY HASH(v) BUCKETS 2",
                "Table mt_dist already exist but with different schema, errMsg: "),
    "mt_overlap": ("CREATE TABLE mt_overlap (k INT, v VARCHAR(64)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                   "(PARTITION px VALUES LESS THAN (\"50\")) DISTRIBUTED BY HASH(k) BUCKETS 2",
                   "Partition p1 in table mt_overlap has conflict range with existing ranges"),
}


def make_schema(conn):
    big = ", ".join(f"({100 + i % 900}, '{hashlib.md5(str(i).encode()).hexdigest()}')" for i in range(2700))
    for sql in [
        "CREATE DATABASE d1",
        "USE d1",
        "CREATE TABLE dup (k INT, v VARCHAR(64)) DUPLICATE KEY(k) "
        "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"1000\")) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2",
        "CREATE TABLE city (id INT, city VARCHAR(16), pop INT) UNIQUE KEY(id, city) "
        "PARTITION BY LIST(city) (PARTITION pe VALUES IN (\"paris\", \"lyon\"), PARTITION pw VALUES IN (\"nyc\")) "
        "DISTRIBUTED BY HASH(id) BUCKETS 2",
        "CREATE TABLE agg (k INT NOT NULL, total BIGINT SUM, hi INT MAX) AGGREGATE KEY(k) "
        "PARTITION BY RANGE(k) (PARTITION a1 VALUES LESS THAN (\"10\"), PARTITION a2 VALUES LESS THAN (\"100\")) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2",
        "CREATE TABLE pk (k INT NOT NULL, region VARCHAR(8) NOT NULL, v INT) PRIMARY KEY(k, region) "
        "PARTITION BY LIST(region) (PARTITION pe VALUES IN (\"eu\"), PARTITION pu VALUES IN (\"us\")) "
        "DISTRIBUTED BY HASH(k) BUCKETS 3",
        "CREATE MATERIALIZED VIEW agg_hi AS SELECT k, MAX(hi) FROM agg GROUP BY k",
        # Several loads per table: several rowsets, whose order matters for UNIQUE, AGGREGATE and PRIMARY.
        "INSERT INTO dup VALUES (1, 'a'), (50, 'b'), (150, 'c'), (999, 'd')",
        "INSERT INTO dup VALUES (2, 'e'), (500, 'f')",
        "INSERT INTO dup VALUES " + big,
        "INSERT INTO city VALUES (1, 'paris', 10), (2, 'lyon', 20), (3, 'nyc', 30)",
        "INSERT INTO city VALUES (1, 'paris', 11), (4, 'nyc', 40)",
        "INSERT INTO city VALUES (3, 'nyc', 33)",
        "INSERT INTO agg VALUES (1, 10, 1), (1, 5, 7), (20, 7, 2)",
        "INSERT INTO agg VALUES (1, 1, 3), (20, 1, 9), (30, 2, 2)",
        "INSERT INTO pk VALUES (1, 'eu', 1), (2, 'us', 2), (3, 'eu', 3)",
        "INSERT INTO pk VALUES (1, 'eu', 10), (4, 'us', 4)",
        "INSERT INTO pk VALUES (2, 'us', 20)",
        "CREATE VIEW v_dup AS SELECT k FROM dup WHERE k > 10",
        "CREATE MATERIALIZED VIEW mv_agg DISTRIBUTED BY HASH(k) BUCKETS 1 REFRESH MANUAL AS "
        "SELECT k, SUM(total) AS s FROM agg GROUP BY k",
        "REFRESH MATERIALIZED VIEW mv_agg WITH SYNC MODE",
        "CREATE FUNCTION my_add(INT, INT) RETURNS INT PROPERTIES "
        "(\"symbol\" = \"com.example.Add\", \"type\" = \"StarrocksJar\", \"file\" = \"http://repo/udf.jar\")",
        'CREATE EXTERNAL CATALOG hive_prod PROPERTIES ("type" = "hive", '
        '"hive.metastore.uris" = "thrift://metastore:9083")',
    ]:
        query(conn, sql)


def check_show_restore(conn, first, row, ts):
    names, _ = columns_of(conn, "SHOW RESTORE FROM d2")
    check(names == SHOW_RESTORE_COLUMNS, f"SHOW RESTORE has StarRocks' 18 columns then ours: {names}")
    check(first["JobId"].isdigit() and first["JobId"] == row["JobId"] and first["Label"] == "full1"
          and first["DbName"] == "d2", f"the job is row 0 of SHOW RESTORE FROM d2 as soon as RESTORE returns: {first}")
    check(row["Label"] == "full1" and row["Timestamp"] == ts and row["DbName"] == "d2",
          f"Label, Timestamp, DbName: {row['Label']} {row['Timestamp']} {row['DbName']}")
    check(row["AllowLoad"] == "true" and row["ReplicationNum"] == "1" and row["Timeout"] == "3600",
          f"AllowLoad, ReplicationNum, Timeout from PROPERTIES: {row['AllowLoad']} {row['ReplicationNum']} "
          f"{row['Timeout']}")
    times = [row[c] for c in ["CreateTime", "MetaPreparedTime", "SnapshotFinishedTime", "DownloadFinishedTime",
                              "FinishedTime"]]
    check(all(DATETIME.match(t or "") for t in times) and times == sorted(times),
          f"times are yyyy-MM-dd HH:mm:ss in state order: {times}")
    check(row["UnfinishedTasks"] == "" and row["Progress"] == "" and row["TaskErrMsg"] == "",
          "no unfinished tasks, progress or task errors")
    check(int(row["BytesTotal"]) > 0 and row["BytesDone"] == row["BytesTotal"] and int(row["FilesTotal"]) > 0
          and row["FilesDone"] == row["FilesTotal"],
          f"FINISHED: every byte and file done: {row['BytesDone']}/{row['BytesTotal']} "
          f"{row['FilesDone']}/{row['FilesTotal']}")
    check(row["CurrentRate"] is None and row["RateLimit"] is None and row["Eta"] is None,
          "no rate, limit or ETA once finished")


def submission_errors(server, conn, ts):
    """StarRocks' refusals at submission (spec 1.2, 6.1): nothing is journaled for them."""
    for sql, expected in [
        ("RESTORE SNAPSHOT full1 FROM repo PROPERTIES ('colour' = 'red', 'backup_timestamp' = '%s')" % ts,
         "Unknown restore job properties: [colour]"),
        ("RESTORE SNAPSHOT full1 FROM repo PROPERTIES ('replication_num' = 'x')",
         "Invalid replication num format: x"),
        ("RESTORE SNAPSHOT full1 FROM nosuch", "Repository nosuch does not exist"),
        ("RESTORE SNAPSHOT nolabel FROM repo", "Failed to get info of snapshot 'nolabel' because"),
        ("RESTORE SNAPSHOT full1 FROM repo PROPERTIES ('backup_timestamp' = '2001-01-01-00-00-00-000')",
         "Maybe specified wrong backup timestamp"),
        ("RESTORE SNAPSHOT full1 FROM repo DATABASE other", "target database: other is not existed in snapshot"),
        ("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE nosuch)", "Table nosuch does not exist in snapshot full1"),
        ("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup PARTITION (p9))",
         "Partition p9 of table dup does not exist in snapshot full1"),
        ("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (FUNCTION nofunc)", "Can not find restore function: nofunc"),
        ("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup, TABLE dup)", "Duplicated table: dup"),
        ("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup AS x, TABLE city AS x)", "Duplicated alias name: x"),
        ("RESTORE SNAPSHOT full1 FROM repo EXTERNAL CATALOG (hive_prod)",
         "This is not a snapshot for external catalog restore, snapshot: full1"),
    ]:
        err = error_of(conn, sql)
        check(err is not None and expected in err[1], f"{sql}: {err}")
    check(restore_of(conn, "d1") is None and restore_of(conn, "other") is None, "no job was made for them")
    err = error_of(conn, "CANCEL RESTORE FOR EXTERNAL CATALOG")
    check(err is not None and err[1] == "No restore is currently running", f"CANCEL with nothing running: {err}")
    query(conn, "CREATE USER plain IDENTIFIED BY 'pw'")
    user = connect(server, "plain", "pw")
    for sql in ["RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS dx", "SHOW RESTORE FROM d1", "CANCEL RESTORE FROM d1"]:
        err = error_of(user, sql)
        check(err is not None and err[0] in (1227, 1044), f"a user without db_admin: {sql}: {err}")
    user.close()


def restore_whole_renamed(conn, orig, ts, view, mvs, creates):
    """DATABASE d1 AS d2: a missing database is created with everything in it, data equal."""
    first, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d2 PROPERTIES ("
                                   f"'backup_timestamp' = '{ts}', 'replication_num' = '1', 'allow_load' = 'true', "
                                   "'timeout' = '3600', 'max_download_speed_kbps' = '100000')", "d2")
    check_finished(row, "DATABASE d1 AS d2")
    check_show_restore(conn, first, row, ts)
    check(row["RestoreObjs"] == "agg, city, dup, pk, mv_agg, v_dup, my_add", f"RestoreObjs: {row['RestoreObjs']}")
    got = content(conn, "d2")
    for t in TABLES:
        check(got[t][0] == orig[t][0], f"d2.{t}: CHECKSUM TABLE equals the original's")
        check(got[t][1] == orig[t][1], f"d2.{t}: SELECT ... ORDER BY equals the original's ({len(orig[t][1])} rows)")
    check(all(create_text(conn, "d2", t) == creates[t] for t in TABLES), "SHOW CREATE TABLE is the original's")
    check(mv_rows(conn, "d2") == mvs, f"the materialized views' rows come back: {mv_rows(conn, 'd2')}")
    check(not [r for r in rows_of(conn, "d2", "dup") if r[1] == "after backup"]
          and checksum(conn, "d2", "pk") != checksum(conn, "d1", "pk"),
          "snapshot isolation: rows loaded after the BACKUP are not restored")
    check(view_text(conn, "d2", "v_dup") == view, "the view comes back")
    check(mv_state(conn, "d2", "mv_agg") == "true", "the materialized view comes back active (its base is restored)")
    check(functions_of(conn, "d2") == ["my_add"], f"the function comes back: {functions_of(conn, 'd2')}")


def restore_dropped(conn, orig, mvs):
    """DROP TABLE then RESTORE, MVs inactive while a base table is missing."""
    query(conn, "DROP MATERIALIZED VIEW d1.mv_agg")
    for t in TABLES:
        query(conn, f"DROP TABLE d1.{t}")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (MATERIALIZED VIEW mv_agg)", "d1")
    check_finished(row, "MATERIALIZED VIEW mv_agg without its base table")
    check(mv_state(conn, "d1", "mv_agg") == "false", "the MV is inactive while its base table is missing")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (ALL TABLES)", "d1")
    check_finished(row, "ON (ALL TABLES) after DROP TABLE")
    got = content(conn, "d1")
    for t in TABLES:
        check(got[t] == orig[t], f"d1.{t} after DROP TABLE and RESTORE: checksum and rows equal the original's")
    query(conn, "ALTER MATERIALIZED VIEW d1.mv_agg ACTIVE")
    check(mv_state(conn, "d1", "mv_agg") == "true", "ALTER MATERIALIZED VIEW ... ACTIVE once the base is back")
    check(mv_rows(conn, "d1", ["agg_hi"]) == {"agg_hi": mvs["agg_hi"]}, "the synchronous MV's rows come back")
    query(conn, "INSERT INTO d1.dup VALUES (3, 'load after restore')")
    check(len(rows_of(conn, "d1", "dup")) == len(orig["dup"][1]) + 1, "a restored table takes loads")
    # Later loads come after the restored rowsets: they win over them in UNIQUE and PRIMARY tables.
    query(conn, "INSERT INTO d1.pk VALUES (1, 'eu', 100)")
    query(conn, "INSERT INTO d1.city VALUES (1, 'paris', 111)")
    query(conn, "INSERT INTO d1.agg VALUES (1, 1000, 99)")
    check(query(conn, "SELECT v FROM d1.pk WHERE k = 1") == ((100,),), "a later upsert wins in a restored PRIMARY table")
    check(query(conn, "SELECT pop FROM d1.city WHERE id = 1") == ((111,),), "and in a restored UNIQUE table")
    total = [r for r in orig["agg"][1] if r[0] == 1][0][1]
    check(query(conn, "SELECT total, hi FROM d1.agg WHERE k = 1") == ((total + 1000, 99),),
          "a restored AGGREGATE table aggregates later loads")
    check(query(conn, "SELECT * FROM d1.agg_hi WHERE k = 1") == ((1, 99),), "its synchronous MV is maintained")


def restore_objects(conn, view):
    """Views replace views; a view onto a table's name is refused; functions come back."""
    query(conn, "CREATE OR REPLACE VIEW d1.v_dup AS SELECT 1 AS k")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (VIEW v_dup)", "d1")
    check_finished(row, "VIEW v_dup over a local view")
    check(view_text(conn, "d1", "v_dup") == view, "the local view is replaced by the snapshot's")
    before = checksum(conn, "d1", "dup")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (VIEW v_dup AS dup)", "d1")
    check_cancelled(row, ["Table: dup has existed and it is not a View"], "a view onto an existing table's name")
    check(checksum(conn, "d1", "dup") == before, "the table is left intact")
    query(conn, "DROP FUNCTION d1.my_add(INT, INT)")
    check(functions_of(conn, "d1") == [], "the function is dropped")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (FUNCTION my_add)", "d1")
    check_finished(row, "FUNCTION my_add")
    check(functions_of(conn, "d1") == ["my_add"], "SHOW FUNCTIONS lists it again")


def restore_forms(conn, orig, mvs):
    """The old form's target prefix and bare names; every v3.4 kind with AS and ALL TABLES."""
    p1 = [r for r in orig["dup"][1] if r[0] < 100]
    p2 = [r for r in orig["dup"][1] if r[0] >= 100]
    _, row = run_restore(conn, "RESTORE SNAPSHOT d3.full1 FROM repo ON (dup PARTITION (p1) AS dup_p1, city, v_dup, "
                               "mv_agg)", "d3")
    check_finished(row, "old form into d3")
    check(row["RestoreObjs"] == "dup PARTITIONS [p1] AS dup_p1, city, mv_agg, v_dup",
          f"old form RestoreObjs: {row['RestoreObjs']}")
    check(sorted(r[0] for r in query(conn, "SHOW TABLES FROM d3")) == ["city", "dup_p1", "mv_agg", "v_dup"],
          f"d3 holds what ON named, renamed: {query(conn, 'SHOW TABLES FROM d3')}")
    check(rows_of(conn, "d3", "dup_p1") == tuple(p1), "dup_p1 holds only partition p1's rows")
    check(len(query(conn, "SHOW PARTITIONS FROM d3.dup_p1")) == 1, "and only partition p1")
    check(content(conn, "d3", ["city"]) == {"city": orig["city"]}, "d3.city equals the original")

    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d4 ON (TABLE dup PARTITION (p2) AS dup2, "
                               "MATERIALIZED VIEW mv_agg AS mv2, VIEW v_dup AS v2, FUNCTION my_add AS my_add2, "
                               "ALL TABLES)", "d4")
    check_finished(row, "v3.4 kinds with AS and ALL TABLES")
    check(sorted(r[0] for r in query(conn, "SHOW TABLES FROM d4")) == ["agg", "city", "dup2", "mv2", "pk", "v2"],
          f"d4 holds every kind, renamed: {query(conn, 'SHOW TABLES FROM d4')}")
    check(rows_of(conn, "d4", "dup2") == tuple(p2), "dup2 holds only partition p2's rows")
    check(content(conn, "d4", ["agg", "city", "pk"]) == {t: orig[t] for t in ["agg", "city", "pk"]},
          "ALL TABLES restored the others equal")
    check(mv_state(conn, "d4", "mv2") == "true", "mv2 is active: its base table agg was restored with it")
    check(functions_of(conn, "d4") == ["my_add2"], f"FUNCTION ... AS: {functions_of(conn, 'd4')}")

    # A synchronous MV's name is unique in its database: a renamed copy of its table next to it is refused.
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d8 ON (TABLE agg AS agg_copy)", "d8")
    check_finished(row, "TABLE agg AS agg_copy into a new database")
    check(mv_rows(conn, "d8", ["agg_hi"]) == {"agg_hi": mvs["agg_hi"]}, "its synchronous MV comes with it")
    query(conn, "INSERT INTO d8.agg_copy VALUES (1, 1, 1000)")
    check(query(conn, "SELECT * FROM d8.agg_hi WHERE k = 1") == ((1, 1000),), "and is maintained by loads")
    tables = query(conn, "SHOW TABLES FROM d2")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d2 ON (TABLE agg AS agg_copy)", "d2")
    check_cancelled(row, ["Table agg_copy can not be restored: its materialized view agg_hi has the name of an "
                          "existing table, view or materialized view"], "a copy beside its own synchronous MV")
    check(query(conn, "SHOW TABLES FROM d2") == tables, "nothing is added")
    query(conn, "CREATE TABLE d8.x (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d8 ON (TABLE dup AS agg_hi)", "d8")
    check_cancelled(row, ["Table agg_hi already exist but it is a view or a materialized view"],
                    "a table restored under a synchronous MV's name")


def overwrite(conn, orig, mvs):
    """Spec 6.2: listed partitions replaced, others kept; a missing partition added; mismatches refused."""
    query(conn, "INSERT INTO d1.dup VALUES (5, 'new in p1'), (600, 'new in p2')")
    kept_p2 = rows_of(conn, "d1", "dup", "WHERE k >= 100")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup PARTITION (p1))", "d1")
    check_finished(row, "overwrite partition p1 of an existing table")
    check(rows_of(conn, "d1", "dup", "WHERE k < 100") == tuple(r for r in orig["dup"][1] if r[0] < 100),
          "partition p1 holds the snapshot's rows")
    check(rows_of(conn, "d1", "dup", "WHERE k >= 100") == kept_p2, "partition p2 is left as it was")
    query(conn, "INSERT INTO d1.dup VALUES (6, 'after overwrite')")
    check((6, "after overwrite") in rows_of(conn, "d1", "dup", "WHERE k < 100"),
          "a load into the overwritten partition is visible")
    query(conn, "ALTER TABLE d1.dup DROP PARTITION p2")
    query(conn, "TRUNCATE TABLE d1.dup")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup PARTITION (p2))", "d1")
    check_finished(row, "a missing partition of an existing table")
    check(len(query(conn, "SHOW PARTITIONS FROM d1.dup")) == 2, "partition p2 is added")
    check(rows_of(conn, "d1", "dup") == tuple(r for r in orig["dup"][1] if r[0] >= 100),
          "it holds the snapshot's rows; p1 keeps its own (none)")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo ON (TABLE dup)", "d1")
    check_finished(row, "the whole table over itself, ON without DATABASE")
    check(content(conn, "d1", ["dup"]) == {"dup": orig["dup"]}, "the table equals the original again")
    # LIST partitions: a missing one is added too.
    pe = rows_of(conn, "d1", "city", "WHERE city <> 'nyc'")
    query(conn, "ALTER TABLE d1.city DROP PARTITION pw")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE city PARTITION (pw))", "d1")
    check_finished(row, "a missing LIST partition")
    check(rows_of(conn, "d1", "city", "WHERE city = 'nyc'") == tuple(r for r in orig["city"][1] if r[1] == "nyc")
          and rows_of(conn, "d1", "city", "WHERE city <> 'nyc'") == pe, "pw is back as backed up, pe as it was")
    # A table with a synchronous MV: its index is overwritten with the partition.
    query(conn, "INSERT INTO d1.agg VALUES (2, 5, 500), (40, 5, 500)")
    a2 = rows_of(conn, "d1", "agg", "WHERE k >= 10")
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE agg PARTITION (a1))", "d1")
    check_finished(row, "partition a1 of a table with a synchronous MV")
    check(rows_of(conn, "d1", "agg", "WHERE k < 10") == tuple(r for r in orig["agg"][1] if r[0] < 10)
          and rows_of(conn, "d1", "agg", "WHERE k >= 10") == a2, "a1 holds the snapshot's rows, a2 its own")
    check(query(conn, "SELECT * FROM d1.agg_hi WHERE k < 10 ORDER BY 1") ==
          tuple(r for r in mvs["agg_hi"] if r[0] < 10), "and so does the synchronous MV over a1")
    # No DATABASE, no ON: everything, into the snapshot's own database, over what is there.
    _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo", "d1")
    check_finished(row, "RESTORE SNAPSHOT full1 FROM repo (everything, over existing tables)")
    check(content(conn, "d1") == orig, "every table equals the original")
    for name, (create, message) in MISMATCH.items():
        query(conn, "USE d1")
        query(conn, create)
        query(conn, f"INSERT INTO d1.{name} VALUES (7, 'mine'), (8, 'mine too')")
        before = content(conn, "d1", [name])
        _, row = run_restore(conn, f"RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup PARTITION (p1) AS {name})",
                             "d1")
        check_cancelled(row, [message], f"a mismatching table {name}")
        check(content(conn, "d1", [name]) == before, f"{name} is left exactly as it was")
        query(conn, f"INSERT INTO d1.{name} VALUES (9, 'loads again')")


def unpartitioned(conn):
    """An unpartitioned table's one partition is named as its table, renamed or not."""
    query(conn, "CREATE TABLE d1.solo (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    query(conn, "INSERT INTO d1.solo VALUES (1, 1), (2, 2)")
    query(conn, "INSERT INTO d1.solo VALUES (3, 3)")
    query(conn, "BACKUP DATABASE d1 SNAPSHOT solo1 TO repo ON (TABLE solo)")
    check(wait_for(conn, "d1", {"FINISHED", "CANCELLED"})["State"] == "FINISHED", "a backup of an unpartitioned table")
    solo = rows_of(conn, "d1", "solo")
    _, row = run_restore(conn, "RESTORE SNAPSHOT solo1 FROM repo DATABASE d1 ON (TABLE solo AS solo2)", "d1")
    check_finished(row, "an unpartitioned table AS a new name")
    check(rows_of(conn, "d1", "solo2") == solo, "it holds the rows")
    parts = [r[1] for r in query(conn, "SHOW PARTITIONS FROM d1.solo2")]
    check(parts == ["solo2"], f"its one partition is named as the table: {parts}")
    query(conn, "CREATE TABLE d1.solo3 (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    query(conn, "INSERT INTO d1.solo3 VALUES (9, 9)")
    _, row = run_restore(conn, "RESTORE SNAPSHOT solo1 FROM repo DATABASE d1 ON (TABLE solo AS solo3)", "d1")
    check_finished(row, "an unpartitioned table AS an existing unpartitioned table")
    check(rows_of(conn, "d1", "solo3") == solo, "its partition is overwritten")
    query(conn, "INSERT INTO d1.solo3 VALUES (4, 4)")
    check(len(rows_of(conn, "d1", "solo3")) == len(solo) + 1, "and takes loads")


def damage(conn, location, data_dir, ts):
    """A damaged repository: CANCELLED naming the object, nothing visible, no staging left."""
    manifest = manifest_of(location, "repo", "full1")
    before = checksum(conn, "d1", "dup")
    packed = [f for f in manifest["files"] if f["table"] == "dup" and f.get("packed")][0]
    whole = [f for f in manifest["files"] if f["table"] == "dup" and not f.get("packed")][0]
    cases = [
        (Damage(os.path.join(location, packed["key"])).flip(packed["offset"] + packed["size"] // 2),
         [packed["key"], packed["xxh3_128"], "got"], "a flipped byte in a packed file"),
        (Damage(os.path.join(location, whole["key"])).flip(whole["size"] // 3),
         [whole["key"], whole["xxh3_128"], "got"], "a flipped byte in a data object"),
        (Damage(os.path.join(location, whole["key"])).delete(), [whole["key"]], "a deleted data object"),
    ]
    ss = os.path.join(repo_root(location, "repo"), "__ss_full1")
    for kind in ["__info_", "__meta_", "__manifest_"]:
        name = [n for n in snapshot_objects(location, "repo", "full1") if n.startswith(kind)][0]
        cases.append((Damage(os.path.join(ss, name)).truncate(), [name], f"a truncated {kind.strip('_')} object"))
    for d, expected, what in cases:
        with d:
            for sql, db in [("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS dmg", "dmg"),
                            ("RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup)", "d1")]:
                _, row = run_restore(conn, sql, db)
                check_cancelled(row, expected, f"{what}, {sql}")
            if what.startswith("a truncated"):
                # No database named and none readable: no job to file (not under "", the
                # external-catalog job's); the statement fails naming the object.
                err = error_of(conn, "RESTORE SNAPSHOT full1 FROM repo")
                check(err is not None and expected[0] in err[1],
                      f"{what}, a RESTORE naming no database fails at once: {err}")
                check(all(r[3] != "" or r[1] != "full1" for r in query(conn, "SHOW RESTORE")),
                      f"{what}: no restore job without a database")
        check("dmg" not in [r[0] for r in query(conn, "SHOW DATABASES")], f"{what}: no database dmg is created")
        check(checksum(conn, "d1", "dup") == before, f"{what}: d1.dup is intact")
        check(staging_left(data_dir) == [], f"{what}: no staging left under <data_dir>/snapshot")
    # Several snapshots of one label: backup_timestamp chooses.
    info = [n for n in snapshot_objects(location, "repo", "full1") if n.startswith("__info_")][0]
    other = "__info_2020-01-02-03-04-05-678" + info[info.index("."):]
    shutil.copy(os.path.join(ss, info), os.path.join(ss, other))
    err = error_of(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS dmg")
    check(err is not None and "2020-01-02-03-04-05-678" in err[1] and ts in err[1],
          f"several snapshots of one label without backup_timestamp lists their timestamps: {err}")
    os.remove(os.path.join(ss, other))


def hold_a_table(server, conn, data_dir, orig, mvs):
    """A restore in DOWNLOADING holds its existing table: loads and DDL refused, others fine; a
    restart resumes a restore; a timeout ends one."""
    last = restore_of(conn, "d2")
    conn = restart(server, "DOWNLOADING")
    check(content(conn, "d2") == orig and mv_rows(conn, "d2") == mvs, "restored tables are intact after a restart")
    check(restore_of(conn, "d2") == last, "SHOW RESTORE still shows the database's last job after a restart")
    before = content(conn, "d1", ["dup", "city"])
    query(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE dup) "
                "PROPERTIES ('max_download_speed_kbps' = '2048')")
    row = wait_restore(conn, "d1", {"DOWNLOADING"}, timeout=30)
    check(row["RateLimit"] == "2048", f"RateLimit shows the job's max_download_speed_kbps: {row['RateLimit']}")
    check(int(row["BytesTotal"]) > 0 and row["BytesDone"] == "0" and row["FilesDone"] == "0",
          f"DOWNLOADING shows what is to fetch: {row['BytesDone']}/{row['BytesTotal']} {row['FilesDone']}/{row['FilesTotal']}")
    code, body = stream_load_code(server, "d1", "dup")
    check(code == 200 and body.get("Status") == "Fail" and "RESTORE job 'full1'" in body.get("Message", ""),
          f"a Stream Load into it is refused naming the restore: {body}")
    for sql in ["INSERT INTO d1.dup VALUES (1, 'x')", "ALTER TABLE d1.dup ADD PARTITION p3 VALUES LESS THAN (\"2000\")",
                "ALTER TABLE d1.dup DROP PARTITION p1", "TRUNCATE TABLE d1.dup", "DROP TABLE d1.dup",
                "INSERT OVERWRITE d1.dup SELECT * FROM d1.dup", "DROP DATABASE d1",
                "CREATE MATERIALIZED VIEW d1.dup_k AS SELECT k, COUNT(v) FROM d1.dup GROUP BY k"]:
        err = error_of(conn, sql)
        check(err is not None and "RESTORE job 'full1'" in err[1], f"refused while restored: {sql}: {err}")
    query(conn, "INSERT INTO d1.city VALUES (9, 'lyon', 90)")
    check((9, "lyon", 90) in rows_of(conn, "d1", "city"), "another table loads fine meanwhile")
    for sql in ["RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (TABLE city)", "BACKUP DATABASE d1 SNAPSHOT b2 TO repo"]:
        err = error_of(conn, sql)
        check(err is not None and err[1] == "Can only run one backup or restore job of a database at same time",
              f"one job per database: {sql}: {err}")
    query(conn, "CANCEL RESTORE FROM d1")
    row = wait_restore(conn, "d1", {"CANCELLED"}, timeout=10)
    check(re.fullmatch(r"\[COMMON_ERROR, msg: user cancelled, current state: [A-Z_]+\]", row["Status"]),
          f"Status after CANCEL names the state: {row['Status']}")
    check(content(conn, "d1", ["dup"]) == {"dup": before["dup"]}, "the table is intact after CANCEL RESTORE")
    query(conn, "INSERT INTO d1.dup VALUES (1, 'x')")
    check((1, "x") in rows_of(conn, "d1", "dup"), "loads work again after CANCEL RESTORE")
    err = error_of(conn, "CANCEL RESTORE FROM d1")
    check(err is not None and err[1] == "No restore is currently running", f"nothing left to cancel: {err}")
    check(staging_left(data_dir) == [], "no staging left after CANCEL")
    code, body = stream_load_code(server, "d1", "city")
    check(code == 200, f"Stream Load works again too: {body}")

    query(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d6 ON (TABLE city) PROPERTIES ('timeout' = '1')")
    row = wait_restore(conn, "d6", {"CANCELLED", "FINISHED"}, timeout=20)
    check(row["State"] == "CANCELLED" and row["Status"].startswith("[TIMEOUT, msg: "),
          f"a restore past its timeout is cancelled with TIMEOUT: {row['Status']}")
    check("d6" not in [r[0] for r in query(conn, "SHOW DATABASES")], "and creates nothing")

    query(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d5 ON (TABLE pk, TABLE agg)")
    wait_restore(conn, "d5", {"DOWNLOADING"}, timeout=30)
    # Names the restore creates are not held: one taken meanwhile fails its commit, not the other's.
    query(conn, "CREATE DATABASE d7")
    query(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d7 ON (TABLE city)")
    wait_restore(conn, "d7", {"DOWNLOADING"}, timeout=30)
    query(conn, "CREATE TABLE d7.city (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    query(conn, "INSERT INTO d7.city VALUES (1)")
    tablets = set(segment_files(data_dir))
    # Resumed, d5 stops again once its record is published (COMMITTING), d7 fails its commit.
    conn = restart(server, "COMMITTING")
    row = wait_restore(conn, "d7", timeout=30)
    check_cancelled(row, ["Table 'city' was created while the restore ran; nothing was restored"],
                    "a table created under the restored name meanwhile")
    check(rows_of(conn, "d7", "city") == ((1,),), "the table created meanwhile is left as it was")
    wait_restore(conn, "d5", {"COMMITTING"}, timeout=30)
    conn = restart(server)
    row = wait_restore(conn, "d5", timeout=30)
    check_finished(row, "a restore stopped by a restart in DOWNLOADING resumes")
    check(content(conn, "d5", ["pk", "agg"]) == {t: orig[t] for t in ["pk", "agg"]}, "and restores equal data")
    check(staging_left(data_dir) == [], "no staging left once it finished")
    restored = {k for k in segment_files(data_dir) if k not in tablets}
    d5 = {int(r[0]) for t in ["pk", "agg"] for r in query(conn, f"SHOW TABLETS FROM d5.{t}")}
    check({t for t, _ in restored} <= d5, f"the cancelled restore left no files in tablet directories: "
          f"{sorted({t for t, _ in restored} - d5)}")
    return conn


def cancel_downloading(conn, data_dir):
    """A restore cancelled while it downloads (slowly): its progress shows, then nothing is left."""
    query(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 AS d9 PROPERTIES ('max_download_speed_kbps' = '16')")
    deadline = time.time() + 30
    row = restore_of(conn, "d9")
    while time.time() < deadline and not (row["State"] == "DOWNLOADING" and row["CurrentRate"] not in (None, "0")):
        time.sleep(0.1)
        row = restore_of(conn, "d9")
    check(row["RateLimit"] == "16" and row["Eta"] is not None and int(row["Eta"]) > 0
          and 0 < int(row["BytesDone"]) < int(row["BytesTotal"]),
          f"DOWNLOADING shows rate, limit, ETA and progress: {row['CurrentRate']} B/s of {row['RateLimit']} KB/s, "
          f"ETA {row['Eta']} s, {row['BytesDone']}/{row['BytesTotal']}")
    started = time.time()
    query(conn, "CANCEL RESTORE FROM d9")
    row = wait_restore(conn, "d9", {"CANCELLED"}, timeout=5)
    check(time.time() - started < 1.5, f"CANCEL takes effect within a second ({time.time() - started:.2f} s)")
    check(row["Status"] == "[COMMON_ERROR, msg: user cancelled, current state: DOWNLOADING]", f"Status: {row['Status']}")
    check("d9" not in [r[0] for r in query(conn, "SHOW DATABASES")], "nothing of it is visible")
    check(staging_left(data_dir) == [], "its staged files are removed")


def restore_catalogs(conn):
    query(conn, "BACKUP EXTERNAL CATALOG (hive_prod) SNAPSHOT cats TO repo")
    deadline = time.time() + 30
    while time.time() < deadline and query(conn, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'cats'")[0][2] != "OK":
        time.sleep(0.05)
    _, row = run_restore(conn, "RESTORE SNAPSHOT cats FROM repo EXTERNAL CATALOG (hive_prod AS hive2)", "")
    check_finished(row, "EXTERNAL CATALOG (hive_prod AS hive2)")
    check(catalogs(conn) == ["default_catalog", "hive2", "hive_prod"], f"SHOW CATALOGS: {catalogs(conn)}")
    query(conn, "DROP CATALOG hive_prod")
    _, row = run_restore(conn, "RESTORE SNAPSHOT cats FROM repo ALL EXTERNAL CATALOGS", "")
    check_finished(row, "ALL EXTERNAL CATALOGS")
    check(catalogs(conn) == ["default_catalog", "hive2", "hive_prod"], f"hive_prod is back: {catalogs(conn)}")
    check(query(conn, "SHOW CREATE CATALOG hive_prod")[0][1].count("thrift://metastore:9083") == 1,
          "with its properties")
    _, row = run_restore(conn, "RESTORE SNAPSHOT cats FROM repo EXTERNAL CATALOG (hive_prod)", "")
    check_cancelled(row, ["Catalog 'hive_prod' already exists"], "an existing catalog")


def second_server(binary, work, location, orig):
    """Another server, its own data dir: the same repository, the snapshot, equal data, new tablets."""
    data_dir = os.path.join(work, "data2")
    log_path = os.path.join(work, "server2.log")
    server = TvServer(binary, data_dir, log_path)
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE filler")
        query(conn, "CREATE TABLE filler.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 7")
        before = max(int(r[0]) for r in query(conn, "SHOW TABLETS FROM filler.t"))
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        snaps = [r[0] for r in query(conn, "SHOW SNAPSHOT ON repo")]
        check("full1" in snaps, f"the second server sees the snapshot: {snaps}")
        _, row = run_restore(conn, "RESTORE SNAPSHOT full1 FROM repo DATABASE d1 ON (ALL TABLES)", "d1")
        check_finished(row, "the second server's RESTORE")
        got = content(conn, "d1")
        check(all(got[t] == orig[t] for t in TABLES), "its tables equal the originals (checksums and rows)")
        mine = {int(r[0]) for t in TABLES for r in query(conn, f"SHOW TABLETS FROM d1.{t}")}
        check(mine and min(mine) > before, f"its tablets get new ids from its own catalog: {sorted(mine)[:3]}...")
        held = [name for tablet, name in segment_files(data_dir) if tablet in mine]
        files = [f for f in manifest_of(location, "repo", "full1")["files"] if f["table"] in TABLES]
        check(len(held) == len(files), f"their files are in its own data dir: {len(held)} of {len(files)}")
        check(server.sanitizer_reports() == [], "no sanitizer reports on the second server")
    finally:
        server.stop()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-restore-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    # Small segments: the larger loads write several segment files per tablet.
    server = TvServer(binary, data_dir, log_path, ["--set", "backup_pack_threshold=16K",
                                                   "--set", "segment_max_bytes=65536"])
    try:
        server.start()
        conn = connect(server)
        make_schema(conn)
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        check(racing_loads(server, work), "two racing Stream Loads")
        check(query(conn, "SELECT v FROM d1.pk WHERE k = 1") == ((1000,),),
              "the load published last wins, though it started first")
        orig = content(conn, "d1")
        mvs = mv_rows(conn, "d1")
        creates = {t: create_text(conn, "d1", t) for t in TABLES}
        view = view_text(conn, "d1", "v_dup")
        query(conn, "BACKUP DATABASE d1 SNAPSHOT full1 TO repo")
        check(wait_for(conn, "d1", {"FINISHED", "CANCELLED"})["State"] == "FINISHED", "the backup finished")
        ts = query(conn, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'full1'")[0][1]
        files = [f for f in manifest_of(location, "repo", "full1")["files"] if f["table"] in TABLES]
        check(any(f.get("packed") for f in files) and any(not f.get("packed") for f in files),
              f"some files are packed, some not ({sum(bool(f.get('packed')) for f in files)}/{len(files)} packed)")
        check(any(f["name"].endswith("_1.dat") for f in files), "some rowsets have several segment files")
        # Snapshot isolation: these rows are not in the snapshot.
        query(conn, "INSERT INTO d1.dup VALUES (77, 'after backup'), (777, 'after backup')")
        query(conn, "INSERT INTO d1.pk VALUES (1, 'eu', -1)")

        submission_errors(server, conn, ts)
        restore_whole_renamed(conn, orig, ts, view, mvs, creates)
        restore_dropped(conn, orig, mvs)
        restore_objects(conn, view)
        restore_forms(conn, orig, mvs)
        overwrite(conn, orig, mvs)
        unpartitioned(conn)
        damage(conn, location, data_dir, ts)
        restore_catalogs(conn)
        cancel_downloading(conn, data_dir)
        conn = hold_a_table(server, conn, data_dir, orig, mvs)
        check(server.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
    second_server(binary, work, location, orig)
    finish(work, log_path)


if __name__ == "__main__":
    main()
