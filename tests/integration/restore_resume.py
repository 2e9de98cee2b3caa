#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# RESTORE continues a large file from its verified parts after kill -9: a throttled restore of
# one multipart-sized segment is killed once some parts are journaled; after the restart the
# same job reads those parts back from the staged partial file instead of fetching them (the
# server says so), a part damaged on disk while the server was down is fetched again, and the
# restored table equals the original with nothing left in staging.
import glob
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, columns_of, connect, finish, query, wait_for  # noqa: E402
from restore_test_util import snapshot_leftovers  # noqa: E402

PART = 5 * 1024 * 1024


def restore_row(conn):
    names, rows = columns_of(conn, "SHOW RESTORE FROM d1")
    return dict(zip(names, rows[0])) if rows else None


def wait_restore(conn, states, timeout=120):
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = restore_row(conn)
        if row is not None and row["State"] in states:
            return row
        time.sleep(0.1)
    raise RuntimeError(f"restore did not reach {states}: {row}")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-restore-resume-")
    data_dir = os.path.join(work, "data")
    args = ["--set", "multipart_part_size=5M", "--set", "multipart_threshold=5M"]
    server = TvServer(binary, data_dir, os.path.join(work, "server.log"), args)
    server.start()
    conn = connect(server)
    for sql in [
        "CREATE DATABASE d1", "USE d1",
        "CREATE TABLE big (k BIGINT, a BIGINT, b BIGINT, c BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
        "INSERT INTO big SELECT generate_series, generate_series * 7, generate_series * 13, generate_series * 17 "
        "FROM TABLE(generate_series(1, 1500000))",
        f"CREATE REPOSITORY r WITH BROKER ON LOCATION '{work}/repo'",
        "BACKUP SNAPSHOT d1.s1 TO r",
    ]:
        query(conn, sql)
    total = int(wait_for(conn, "d1", ["FINISHED"])["BytesTotal"])
    check(total > 6 * PART, f"the segment spans several {PART}-byte parts ({total} bytes)")
    original = query(conn, "CHECKSUM TABLE big")[0][1]
    query(conn, "DROP TABLE big")
    # 4 parts in flight at 1 MiB/s each: they land together after about 5 s.
    query(conn, 'RESTORE SNAPSHOT d1.s1 FROM r PROPERTIES ("max_download_speed_kbps" = "4096")')
    deadline = time.time() + 60
    # Bytes count as they arrive: past 4.5 parts, the first four are written and reported.
    while time.time() < deadline and int(restore_row(conn)["BytesDone"]) < 4.5 * PART:
        time.sleep(0.1)
    time.sleep(1.5)  # the journal flushes finished parts every 250 ms
    row = restore_row(conn)
    check(row["State"] == "DOWNLOADING" and 4 * PART <= int(row["BytesDone"]) < total,
          f"killed mid-file: {row['State']} {row['Status']}, {row['BytesDone']} of {total} bytes")
    job = row["JobId"]
    server.stop(sig=signal.SIGKILL)

    partial = glob.glob(os.path.join(data_dir, "snapshot", job, "staging", "*", "*.partial"))
    check(len(partial) == 1 and os.path.getsize(partial[0]) >= 4 * PART,
          f"the staged partial file kept its parts: {[(p, os.path.getsize(p)) for p in partial]}")
    if partial:
        with open(partial[0], "r+b") as f:  # damage the second part: it must be fetched again
            f.seek(PART + 100)
            byte = f.read(1)
            f.seek(PART + 100)
            f.write(bytes([byte[0] ^ 0xFF]))

    server = TvServer(binary, data_dir, os.path.join(work, "restart.log"), args)
    server.start()
    conn = connect(server)
    row = wait_restore(conn, ["FINISHED", "CANCELLED"])
    check(row["State"] == "FINISHED" and row["JobId"] == job, f"the same job finished: {row['JobId']} {row['State']} {row['Status']}")
    log = open(os.path.join(work, "restart.log")).read()
    check("continued 1 files from the parts staged before the restart" in log,
          "the restart continued the file from its staged parts")
    check(query(conn, "CHECKSUM TABLE d1.big")[0][1] == original, "the restored table equals the original")
    left = snapshot_leftovers(data_dir)
    check(left == [], f"nothing left in staging: {left[:5]}")
    server.stop()
    finish(work, os.path.join(work, "restart.log"))


if __name__ == "__main__":
    main()
