#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Stream Load over HTTP with curl, as users run it: success, partial failure under and over
# max_filter_ratio, a repeated label, bad credentials, a user without INSERT, a big body streamed
# with 100-continue; and SHOW PARTITIONS / SHOW TABLET reflecting each load's version.
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from tap import FAILURES, check  # noqa: E402


def stream_load(port, table, path, headers=(), user="root:"):
    args = ["curl", "-sS", "--location-trusted", "-u", user, "-T", path]
    for h in headers:
        args += ["-H", h]
    args += ["-w", "\n%{http_code}", f"http://127.0.0.1:{port}/api/sl/{table}/_stream_load"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    body, _, code = out.stdout.rpartition("\n")
    return int(code), json.loads(body) if body.strip() else {}


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-stream-load-")
    server = TvServer(binary, os.path.join(work, "data"), os.path.join(work, "server.log"))
    try:
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)
        query(conn, "CREATE DATABASE sl")
        query(conn, "CREATE TABLE sl.t (id INT NOT NULL, name VARCHAR(8), d DATE) DUPLICATE KEY(id) "
                    "PARTITION BY RANGE(id) (PARTITION p1 VALUES LESS THAN (\"1000\"), "
                    "PARTITION p2 VALUES LESS THAN (\"2000000\")) DISTRIBUTED BY HASH(id) BUCKETS 3")
        good = os.path.join(work, "good.csv")
        with open(good, "w") as f:
            f.write("1,ann,2024-01-01\n2,bob,\\N\n3,cid,2024-03-03\n")

        code, r = stream_load(server.http_port, "t", good, ["label:l1", "column_separator:,"])
        check(code == 200 and r.get("Status") == "Success" and r.get("NumberLoadedRows") == 3
              and r.get("NumberTotalRows") == 3 and r.get("NumberFilteredRows") == 0
              and r.get("LoadBytes") == os.path.getsize(good) and r.get("Label") == "l1"
              and "LoadTimeMs" in r and r.get("Message") == "OK", f"a clean load succeeds: {code} {r}")
        check(query(conn, "SELECT id, name, d FROM sl.t ORDER BY id") ==
              ((1, "ann", __import__("datetime").date(2024, 1, 1)), (2, "bob", None),
               (3, "cid", __import__("datetime").date(2024, 3, 3))), "the rows are there, \\N is NULL")

        code, r = stream_load(server.http_port, "t", good, ["label:l1", "column_separator:,"])
        check(r.get("Status") == "Label Already Exists" and r.get("ExistingJobStatus") == "FINISHED"
              and "Label [l1] has already been used" in r.get("Message", ""), f"a repeated label is refused: {r}")
        check(query(conn, "SELECT COUNT(*) FROM sl.t")[0][0] == 3, "and loads nothing")

        bad = os.path.join(work, "bad.csv")
        with open(bad, "w") as f:
            f.write("10,ok1,2024-01-01\nx11,bad-int,2024-01-01\n12,waytoolongname,2024-01-01\n13,ok2\n14,ok3,2024-02-30\n"
                    "15,ok4,2024-05-05\n")
        code, r = stream_load(server.http_port, "t", bad, ["label:l2", "column_separator:,"])
        check(r.get("Status") == "Fail" and "too many filtered rows" in r.get("Message", "")
              and r.get("NumberFilteredRows") == 4 and r.get("NumberTotalRows") == 6,
              f"bad rows past max_filter_ratio fail the load: {r}")
        check(query(conn, "SELECT COUNT(*) FROM sl.t")[0][0] == 3, "a failed load publishes nothing")

        code, r = stream_load(server.http_port, "t", bad, ["label:l2", "column_separator:,", "max_filter_ratio:0.7"])
        check(r.get("Status") == "Success" and r.get("NumberLoadedRows") == 2 and r.get("NumberFilteredRows") == 4,
              f"the label of a failed load can be used again, and under the ratio bad rows are skipped: {r}")
        check(query(conn, "SELECT id FROM sl.t WHERE id >= 10 ORDER BY id") == ((10,), (15,)), "only good rows land")

        outside = os.path.join(work, "outside.csv")
        with open(outside, "w") as f:
            f.write("20,in,2024-01-01\n3000000,out,2024-01-01\n")
        code, r = stream_load(server.http_port, "t", outside, ["label:l5", "column_separator:,"])
        check(r.get("Status") == "Fail" and "out of partition ranges" in r.get("Message", "")
              and r.get("NumberFilteredRows") == 1, f"a row outside every partition is a filtered row: {r}")
        code, r = stream_load(server.http_port, "t", outside, ["label:l5", "column_separator:,", "max_filter_ratio:0.5"])
        check(r.get("Status") == "Success" and r.get("NumberLoadedRows") == 1 and r.get("NumberFilteredRows") == 1,
              f"and under max_filter_ratio the others load: {r}")
        code, r = stream_load(server.http_port, "t", good, ["label:l3", "column_separator:,"], user="root:wrong")
        check(code == 401 and r.get("Status") == "Fail" and "Access denied" in r.get("Message", ""),
              f"a wrong password is refused with 401: {code} {r}")
        code, r = stream_load(server.http_port, "t", good, ["label:l3"], user="nobody:")
        check(code == 401, f"an unknown user is refused: {code}")
        query(conn, "CREATE USER 'reader' IDENTIFIED BY 'pw'")
        code, r = stream_load(server.http_port, "t", good, ["label:l3", "column_separator:,"], user="reader:pw")
        check(r.get("Status") == "Fail" and "INSERT privilege" in r.get("Message", ""),
              f"a user without INSERT is refused: {r}")
        code, r = stream_load(server.http_port, "nope", good, ["label:l4"])
        check(r.get("Status") == "Fail" and "unknown table" in r.get("Message", ""), f"unknown table: {r}")

        big = os.path.join(work, "big.csv")
        with open(big, "w") as f:
            for i in range(1000, 300000):
                f.write(f"{i}\tn{i % 1000}\t2024-{1 + i % 12:02d}-{1 + i % 28:02d}\n")
        code, r = stream_load(server.http_port, "t", big, ["label:big", "Expect:100-continue"])
        check(r.get("Status") == "Success" and r.get("NumberLoadedRows") == 299000,
              f"a {os.path.getsize(big)} byte body streams in (tab separated by default): {r}")
        check(query(conn, "SELECT COUNT(*), MIN(id), MAX(id) FROM sl.t WHERE id >= 1000") == ((299000, 1000, 299999),),
              "every streamed row is there")

        parts = {}
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW PARTITIONS FROM sl.t")
            for row in cur.fetchall():
                parts[row["PartitionName"]] = row
        check(set(parts) == {"p1", "p2"}, f"SHOW PARTITIONS lists both: {list(parts)}")
        check(int(parts["p1"]["VisibleVersion"]) == 4 and int(parts["p2"]["VisibleVersion"]) == 2,
              f"versions count the loads that touched each partition: "
              f"{parts['p1']['VisibleVersion']} {parts['p2']['VisibleVersion']}")
        check(int(parts["p1"]["RowCount"]) == 6 and int(parts["p2"]["RowCount"]) == 299000,
              f"row counts: {parts['p1']['RowCount']} {parts['p2']['RowCount']}")
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW TABLET FROM sl.t PARTITION (p2)")
            tablets = cur.fetchall()
        check(len(tablets) == 3 and sum(int(t["RowCount"]) for t in tablets) == 299000
              and all(int(t["Version"]) == 2 for t in tablets) and all(int(t["DataSize"]) > 0 for t in tablets),
              f"SHOW TABLET: three tablets holding the rows: {tablets}")

        query(conn, "TRUNCATE TABLE sl.t PARTITION (p1)")
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW PARTITIONS FROM sl.t WHERE PartitionName = 'p1'")
            p1 = cur.fetchall()[0]
        check(p1["VisibleVersion"] == "1" and p1["VisibleVersionTime"] == "NULL" and p1["RowCount"] == "0",
              f"TRUNCATE leaves a new, empty partition at version 1 with no version time: {p1}")
        check(query(conn, "SELECT COUNT(*) FROM sl.t")[0][0] == 299000, "and only the other partition's rows")

        reports = server.sanitizer_reports()
        check(not reports, "no sanitizer reports: " + "; ".join(reports[:3]))
        check(server.stop() == 0, "clean shutdown")
    finally:
        if server.process is not None:
            server.stop(timeout=10)
        if FAILURES:
            print(open(os.path.join(work, "server.log")).read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
