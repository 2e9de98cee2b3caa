#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# BACKUP to a real S3 server (the Ceph RADOS Gateway of the `rgw` CTest fixture, signatures
# checked), read back with the AWS CLI: the snapshot's objects, a manifest whose entries point
# at the exact bytes of each segment file (whole objects and ranges of packs); a multipart
# upload cut by kill -9 continues from its stored parts after the restart; CANCEL aborts the
# open multipart uploads.
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
from backup_test_util import (check, connect, finish, query, segment_files, segment_of, stream_load, wait_for)  # noqa: E402


def write_rows(path, rows, width):
    alphabet = string.ascii_letters + string.digits
    rng = random.Random(7)
    with open(path, "w") as f:
        for i in range(rows):
            f.write(f"{i}\t{''.join(rng.choices(alphabet, k=width))}\n")


def main():
    binary = sys.argv[1]
    rgw = read_rgw_env()
    bucket = "tv-backup-" + uuid.uuid4().hex[:12]
    aws = Aws(rgw)
    aws.run("s3api", "create-bucket", "--bucket", bucket)
    props = repository_properties(rgw)
    work = tempfile.mkdtemp(prefix="tv-backup-s3-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, ["--set", "multipart_part_size=5M", "--set", "multipart_threshold=5M",
                                                   "--set", "backup_pack_threshold=1M"])
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE small (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        for batch in range(3):
            query(conn, "INSERT INTO small VALUES " + ", ".join(f"({batch * 100 + i}, 'row{i}')" for i in range(100)))
        query(conn, "CREATE TABLE big (k INT, v VARCHAR(256)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        csv = os.path.join(work, "big.csv")
        write_rows(csv, 90000, 200)
        stream_load(server, "d", "big", csv)
        big_segment = max(segment_files(data_dir).values(), key=os.path.getsize)
        check(os.path.getsize(big_segment) > 12 << 20, f"one segment of {os.path.getsize(big_segment)} bytes")
        query(conn, f'CREATE REPOSITORY s3r WITH BROKER ON LOCATION "s3://{bucket}/bk" PROPERTIES ({props})')

        # A multipart upload cut by kill -9 continues from its stored parts. Its parts go up
        # together, so the first one is stored only some way in: slow enough that the AWS CLI,
        # slow itself on a busy machine, sees it while the upload is still open.
        query(conn, "BACKUP DATABASE d SNAPSHOT snap TO s3r PROPERTIES ('max_upload_speed_kbps' = '640')")
        wait_for(conn, "d", {"UPLOADING"})
        deadline, parts = time.time() + 60, []
        while time.time() < deadline and not parts:
            for u in aws.open_uploads(bucket):
                parts = aws.parts(bucket, u["Key"], u["UploadId"])
            time.sleep(0.2)
        time.sleep(0.6)  # past the journal's flush of the part
        check(len(parts) >= 1, f"killed with {len(parts)} parts of the large file stored")
        server.stop(signal.SIGKILL)
        server.start()
        conn = connect(server)
        query(conn, "USE d")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "FINISHED" and row["Status"] == "[OK]", f"the job finished after the restart: {row}")
        check("continued 1 multipart uploads from the parts stored before the restart" in open(log_path).read(),
              "the large file's upload continued from its stored parts")
        check(aws.open_uploads(bucket) == [], "no multipart upload is left open")

        keys = aws.keys(bucket, "bk/__tabletvault_repository_s3r/__ss_snap/")
        leafs = sorted(k.rsplit("/", 1)[1].split("_2")[0] for k in keys)
        check(leafs == ["__info", "__manifest", "__meta"], f"the AWS CLI lists info, meta and manifest: {keys}")
        manifest = json.loads(aws.read(bucket, [k for k in keys if "/__manifest_" in k][0]))
        segments = segment_files(data_dir)
        objects = {}
        exact = 0
        for f in manifest["files"]:
            if f["key"] not in objects:
                objects[f["key"]] = aws.read_bytes(bucket, "bk/" + f["key"])
            start = f.get("offset", 0) if f.get("packed") else 0
            exact += objects[f["key"]][start:start + f["size"]] == segment_of(segments, f)
        check(exact == len(manifest["files"]) and exact > 1,
              f"every manifest entry is the exact bytes of its segment file ({exact}/{len(manifest['files'])})")
        check(any(not f.get("packed") for f in manifest["files"]) and any(f.get("packed") for f in manifest["files"]),
              "large files are objects of their own, small ones are packed")
        rows = query(conn, "SHOW SNAPSHOT ON s3r")
        check(len(rows) == 1 and rows[0][0] == "snap" and rows[0][2] == "OK", f"SHOW SNAPSHOT on S3: {rows}")

        # CANCEL aborts the open multipart uploads.
        query(conn, "INSERT INTO small VALUES (9999, 'x')")
        stream_load(server, "d", "big", csv)
        query(conn, "BACKUP DATABASE d SNAPSHOT cancelled TO s3r PROPERTIES ('max_upload_speed_kbps' = '1024')")
        wait_for(conn, "d", {"UPLOADING"})
        deadline = time.time() + 30
        while time.time() < deadline and not aws.open_uploads(bucket):
            time.sleep(0.1)
        query(conn, "CANCEL BACKUP FROM d")
        row = wait_for(conn, "d", {"CANCELLED"}, timeout=5)
        deadline = time.time() + 10
        while time.time() < deadline and aws.open_uploads(bucket):
            time.sleep(0.1)
        check(aws.open_uploads(bucket) == [], "CANCEL aborted the open multipart upload")
        check(row["Status"] == "[COMMON_ERROR, msg: user cancelled]", f"cancelled: {row['Status']}")
        check(server.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
        aws.run("s3", "rb", f"s3://{bucket}", "--force", check_rc=False)
    finish(work, log_path)


if __name__ == "__main__":
    main()
