#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# kill -9 during a load: after a restart the table is exactly at its previous version (same
# rows, same checksum, same VisibleVersion), and the killed load's segment files (temp or
# renamed but unpublished) are gone, while every published file is still there.
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from tap import FAILURES, check  # noqa: E402

ROUNDS = 4


def connect(server):
    return pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)


def state(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM c.t")
        count = cur.fetchone()[0]
        cur.execute("CHECKSUM TABLE c.t")
        checksum = cur.fetchone()[1]
        cur.execute("SHOW PARTITIONS FROM c.t")
        names = [d[0] for d in cur.description]
        versions = sorted((row[names.index("PartitionName")], row[names.index("VisibleVersion")])
                          for row in cur.fetchall())
    return count, checksum, versions


def data_files(data_dir):
    found = set()
    for root, _, files in os.walk(os.path.join(data_dir, "storage", "data")):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), data_dir))
    return found


def load(server, rows, done):
    try:
        c = connect(server)
        with c.cursor() as cur:
            cur.execute(f"INSERT INTO c.t SELECT generate_series, generate_series % 7, "
                        f"concat('v', generate_series) FROM TABLE(generate_series(1, {rows}))")
        done.append("committed")
    except Exception as e:  # the kill cuts the connection
        done.append(f"cut: {type(e).__name__}")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-load-crash-")
    data_dir = os.path.join(work, "data")
    # A small write buffer makes the load write many segments, so the kill lands mid-files.
    server = TvServer(binary, data_dir, os.path.join(work, "server.log"), ["--set", "write_buffer_size=262144"])
    try:
        server.start()
        conn = connect(server)
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE c")
            cur.execute("CREATE TABLE c.t (id BIGINT NOT NULL, g INT, s VARCHAR(32)) DUPLICATE KEY(id) "
                        "PARTITION BY RANGE(id) (PARTITION p1 VALUES LESS THAN (\"500000\"), "
                        "PARTITION p2 VALUES LESS THAN (MAXVALUE)) DISTRIBUTED BY HASH(id) BUCKETS 4")
            cur.execute("INSERT INTO c.t SELECT generate_series, 1, 'base' FROM TABLE(generate_series(1, 1000))")
        before = state(conn)
        files_before = data_files(data_dir)
        check(before[0] == 1000 and files_before, f"a committed load: {before}, {len(files_before)} files")
        conn.close()
        for round_number in range(ROUNDS):
            done = []
            loader = threading.Thread(target=load, args=(server, 3000000, done))
            loader.start()
            time.sleep(random.uniform(0.2, 1.5))
            server.stop(signal.SIGKILL)
            loader.join(timeout=60)
            server.start()
            conn = connect(server)
            after = state(conn)
            if done and done[0] == "committed":
                # The kill came after the commit: the load is there in full, and is the new baseline.
                check(after[0] == before[0] + 3000000, f"round {round_number}: the acknowledged load survived")
            else:
                check(after == before, f"round {round_number}: killed mid-load ({done}), table unchanged: {after}")
                check(data_files(data_dir) == files_before,
                      f"round {round_number}: the killed load's files are gone, published ones kept")
            before = after
            files_before = data_files(data_dir)
            conn.close()
        # A damaged segment file: queries fail naming the file, and never return wrong rows.
        victim = os.path.join(data_dir, sorted(files_before)[0])
        with open(victim, "r+b") as f:
            f.seek(20)
            byte = f.read(1)
            f.seek(20)
            f.write(bytes([byte[0] ^ 0xFF]))
        conn = connect(server)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*), SUM(id) FROM c.t")
                check(False, f"a corrupt segment was read: {cur.fetchall()}")
        except pymysql.MySQLError as e:
            check(os.path.basename(victim) in e.args[1] and "corrupt" in e.args[1],
                  f"a corrupt segment gives an error naming it: {e.args}")
        conn.close()
        removed = [int(n) for n in re.findall(r"storage: removed (\d+) orphan files", open(server.log_path).read())]
        check(any(n > 0 for n in removed), f"some kill left files of the unpublished load, removed at start: {removed}")
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
