#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# RESTORE from a real S3 server (the Ceph RADOS Gateway of the `rgw` CTest fixture): a backup
# with packed small files and a file large enough for a multipart upload (and ranged, several-
# part downloads) comes back after DROP TABLE with equal checksums, also when the server is
# killed while the large file comes down and restarted; a data object overwritten
# with the AWS CLI makes the restore CANCELLED, its status naming the key and both hashes, with
# nothing of it visible (a deleted one: CANCELLED naming the key); a second server with its own data dir (its own cluster id) creates the
# same repository, sees the snapshot in SHOW SNAPSHOT and restores it with equal checksums.
import json
import os
import random
import signal
import string
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from rgw_test_util import Aws, read_rgw_env, repository_properties  # noqa: E402
from backup_test_util import check, connect, finish, query, stream_load, wait_for  # noqa: E402
from restore_test_util import (fingerprint, insert_rows, restore_of, snapshot_leftovers,  # noqa: E402
                               stray_tablet_files, table_names, wait_restore)

# Parts of 5 MB (the least the keys take): the large file is a multipart upload, and is fetched
# back in several ranged GETs.
FLAGS = ["--set", "multipart_part_size=5M", "--set", "multipart_threshold=5M", "--set", "backup_pack_threshold=1M"]


def write_rows(path, rows, width):
    alphabet = string.ascii_letters + string.digits
    rng = random.Random(7)
    with open(path, "w") as f:
        for i in range(rows):
            f.write(f"{i}\t{''.join(rng.choices(alphabet, k=width))}\n")


def check_clean(conn, data_dir, what):
    leftovers = snapshot_leftovers(data_dir)
    check(leftovers == [], f"{what}: nothing is left under <data_dir>/snapshot: {leftovers[:5]}")
    stray = stray_tablet_files(conn, data_dir)
    check(stray == [], f"{what}: every tablet directory and file belongs to a table: {stray[:5]}")


def corrupted_restore(conn, data_dir, aws, bucket, entry, what):
    """Overwrites the object of manifest entry `entry` (other bytes, same size), restores its
    table under a new name: CANCELLED naming the key and both hashes, nothing visible. The
    object is put back afterwards."""
    key = "bk/" + entry["key"]
    original = aws.read_bytes(bucket, key)
    damaged = bytearray(original)
    start = entry.get("offset", 0) if entry.get("packed") else 0
    for i in range(start, start + entry["size"], 4096):
        damaged[i] ^= 0xFF
    path = os.path.join(data_dir, "..", "damaged")
    with open(path, "wb") as f:
        f.write(bytes(damaged))
    aws.run("s3", "cp", path, f"s3://{bucket}/{key}")
    try:
        new_name = f"{entry['table']}_{what}"
        query(conn, f"RESTORE SNAPSHOT d.snap FROM s3r ON ({entry['table']} AS {new_name})")
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        status = row["Status"]
        check(row["State"] == "CANCELLED", f"{what}: a damaged object cancels the restore: {row['State']} {status}")
        check(entry["key"] in status and entry["xxh3_128"] in status and "got " in status
              and status.split("got ")[1][:32] not in ("", entry["xxh3_128"]),
              f"{what}: the status names the key and both hashes: {status}")
        check(new_name not in table_names(conn, "d"), f"{what}: nothing of the restore is visible")
        check_clean(conn, data_dir, what)
    finally:
        with open(path, "wb") as f:
            f.write(original)
        aws.run("s3", "cp", path, f"s3://{bucket}/{key}")
        os.remove(path)


def main():
    binary = sys.argv[1]
    rgw = read_rgw_env()
    bucket = "tv-restore-" + uuid.uuid4().hex[:12]
    aws = Aws(rgw)
    aws.run("s3api", "create-bucket", "--bucket", bucket)
    props = repository_properties(rgw)
    create_repo = f'CREATE REPOSITORY s3r WITH BROKER ON LOCATION "s3://{bucket}/bk" PROPERTIES ({props})'
    work = tempfile.mkdtemp(prefix="tv-rs3-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, FLAGS)
    other_dir = os.path.join(work, "other")
    other_log = os.path.join(work, "other.log")
    other = TvServer(binary, other_dir, other_log, FLAGS)
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE small (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        for batch in range(3):
            insert_rows(conn, "small", batch * 1000, 200, 30, seed=batch)
        query(conn, "CREATE TABLE big (k INT, v VARCHAR(256)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        csv = os.path.join(work, "big.csv")
        write_rows(csv, 45000, 200)
        stream_load(server, "d", "big", csv)
        os.remove(csv)
        insert_rows(conn, "big", 100000, 50, 100, seed=9)
        query(conn, create_repo)
        query(conn, "BACKUP DATABASE d SNAPSHOT snap TO s3r")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "FINISHED", f"the backup to S3 finished: {row['Status']}")
        backed_up = {t: fingerprint(conn, f"d.{t}") for t in ("small", "big")}

        keys = aws.keys(bucket, "bk/__tabletvault_repository_s3r/__ss_snap/")
        manifest = json.loads(aws.read(bucket, [k for k in keys if "/__manifest_" in k][0]))
        files = manifest["files"]
        large = max(files, key=lambda f: f["size"])
        head = json.loads(aws.run("s3api", "head-object", "--bucket", bucket, "--key", "bk/" + large["key"]).stdout)
        check(not large.get("packed") and large["size"] > 5 << 20 and head["ETag"].strip('"').endswith("-2"),
              f"the large file ({large['size']} bytes) is an object of its own, uploaded in 2 parts: {head['ETag']}")
        packed = [f for f in files if f.get("packed")]
        check(len(packed) >= 12 and len({f["key"] for f in packed}) < len(packed),
              f"the small files are packed: {len(packed)} files in {len({f['key'] for f in packed})} objects")

        # Back after DROP TABLE.
        query(conn, "DROP TABLE small")
        query(conn, "DROP TABLE big")
        query(conn, "RESTORE SNAPSHOT d.snap FROM s3r")
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "FINISHED" and row["Status"] == "[OK]",
              f"RESTORE from S3 after DROP TABLE finished: {row['State']} {row['Status']}")
        check(int(row["FilesDone"]) == len(files) and int(row["BytesDone"]) == sum(f["size"] for f in files),
              f"every file was fetched: {row['FilesDone']} files, {row['BytesDone']} bytes")
        for t in ("small", "big"):
            got = fingerprint(conn, f"d.{t}")
            check(got == backed_up[t], f"{t} restored from S3 equals the backed-up table: {got} == {backed_up[t]}")
        check_clean(conn, data_dir, "restored from S3")

        # Killed while the large file comes down in ranged parts: the same job finishes after
        # the restart, and the table equals the backed-up one.
        query(conn, "DROP TABLE big")
        query(conn, "RESTORE SNAPSHOT d.snap FROM s3r ON (big) PROPERTIES ('max_download_speed_kbps' = '2048')")
        held = wait_restore(conn, "d", {"DOWNLOADING"}, timeout=30)
        deadline = time.time() + 30
        while time.time() < deadline and int(restore_of(conn, "d")["BytesDone"]) < 2 << 20:
            time.sleep(0.05)
        row = restore_of(conn, "d")
        check(row["State"] == "DOWNLOADING" and 0 < int(row["BytesDone"]) < large["size"],
              f"killed with {row['BytesDone']} of {row['BytesTotal']} bytes fetched")
        server.stop(signal.SIGKILL)
        server.start()
        conn = connect(server)
        query(conn, "USE d")
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["JobId"] == held["JobId"] and row["State"] == "FINISHED" and row["Status"] == "[OK]",
              f"killed mid-download from S3: the same job finishes after the restart: {row['State']} {row['Status']}")
        got = fingerprint(conn, "d.big")
        check(got == backed_up["big"], f"big equals the backed-up table after the restart: {got}")
        check_clean(conn, data_dir, "killed mid-download from S3")

        # A damaged object: a whole one (the large file, fetched in ranged parts), and a pack
        # whose damaged file does not start at offset 0.
        corrupted_restore(conn, data_dir, aws, bucket, large, "whole")
        inner = next(f for f in packed if f.get("offset", 0) > 0)
        corrupted_restore(conn, data_dir, aws, bucket, inner, "packed")
        # A data object gone from the bucket: CANCELLED naming it.
        original = aws.read_bytes(bucket, "bk/" + large["key"])
        aws.run("s3api", "delete-object", "--bucket", bucket, "--key", "bk/" + large["key"])
        query(conn, "RESTORE SNAPSHOT d.snap FROM s3r ON (big AS big_missing)")
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "CANCELLED" and large["key"] in row["Status"],
              f"a missing object cancels the restore, naming its key: {row['State']} {row['Status']}")
        check("big_missing" not in table_names(conn, "d"), "missing: nothing of the restore is visible")
        check_clean(conn, data_dir, "missing")
        path = os.path.join(work, "original")
        with open(path, "wb") as f:
            f.write(original)
        aws.run("s3", "cp", path, f"s3://{bucket}/bk/{large['key']}")
        for t in ("small", "big"):
            check(fingerprint(conn, f"d.{t}") == backed_up[t], f"{t} is intact after the failed restores")
        server.stop()

        # Another server, its own data dir and cluster id, the same repository.
        other.start()
        conn = connect(other)
        ids = [open(os.path.join(d, "cluster_id")).read().strip() for d in (data_dir, other_dir)]
        check(ids[0] != ids[1] and manifest["cluster_id"] == ids[0],
              f"the second server has its own cluster id: {ids}")
        query(conn, create_repo)
        rows = query(conn, "SHOW SNAPSHOT ON s3r")
        check(len(rows) == 1 and rows[0][0] == "snap" and rows[0][1] == manifest["timestamp"] and rows[0][2] == "OK",
              f"the second server sees the snapshot: {rows}")
        query(conn, "RESTORE SNAPSHOT d.snap FROM s3r")
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "FINISHED" and row["Status"] == "[OK]",
              f"the second server restores the snapshot: {row['State']} {row['Status']}")
        for t in ("small", "big"):
            got = fingerprint(conn, f"d.{t}")
            check(got == backed_up[t], f"{t} on the second server equals the backed-up table: {got}")
        check_clean(conn, other_dir, "the second server")
        check(server.sanitizer_reports() == [] and other.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
        other.stop()
        aws.run("s3", "rb", f"s3://{bucket}", "--force", check_rc=False)
    finish(work, log_path)


if __name__ == "__main__":
    main()
