#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# ADMIN VERIFY SNAPSHOT against a real S3 server (the Ceph RADOS Gateway of the `rgw` CTest
# fixture): a good snapshot is one OK row in quick and full mode; then, with the AWS CLI, one
# data object deleted, one replaced by a shorter copy and one by a copy with a flipped byte (a
# file large enough to be read in several ranges), and a byte flipped inside a pack piece:
# quick names the deleted and the shortened object, full names all four with their problems.
import json
import os
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from rgw_test_util import Aws, read_rgw_env, repository_properties  # noqa: E402
from backup_test_util import check, connect, finish, query, wait_for  # noqa: E402
from restore_test_util import insert_rows  # noqa: E402
from verify_snapshot import OK, create_tables, verify  # noqa: E402

FLAGS = ["--set", "backup_pack_threshold=16K", "--set", "backup_pack_size=256K",
         "--set", "max_download_speed_kbps=0"]


def main():
    binary = sys.argv[1]
    rgw = read_rgw_env()
    work = tempfile.mkdtemp(prefix="tv-verify-s3-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    bucket = "tv-verify-" + uuid.uuid4().hex[:12]
    aws = Aws(rgw)
    aws.run("s3api", "create-bucket", "--bucket", bucket)
    server = TvServer(binary, data_dir, log_path, FLAGS)
    try:
        server.start()
        conn = connect(server)
        create_tables(conn)
        query(conn, f'CREATE REPOSITORY s3r WITH BROKER ON LOCATION "s3://{bucket}/bk" '
                    f'PROPERTIES ({repository_properties(rgw)})')
        # ~5 MB per bucket: files read in more than one range (4 MiB each)
        insert_rows(conn, "big", 0, 10000, 1000, seed=1)
        for batch in range(3):
            insert_rows(conn, "big", 10000 + batch * 1000, 300, 1000, seed=2 + batch)
            insert_rows(conn, "small", batch * 1000, 20, 50, seed=10 + batch)
        query(conn, "BACKUP SNAPSHOT d.snap TO s3r")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"})
        check(row["State"] == "FINISHED", f"backup finished: {row['Status']}")

        check(verify(conn, "snap", repo="s3r") == OK, "quick verify of a good snapshot: one OK row")
        check(verify(conn, "snap", '"mode" = "full"', repo="s3r") == OK, "full verify of a good snapshot: one OK row")

        keys = aws.keys(bucket, "bk/__tabletvault_repository_s3r/__ss_snap/")
        manifest = json.loads(aws.read(bucket, [k for k in keys if "/__manifest_" in k][0]))
        alone = sorted((f for f in manifest["files"] if not f.get("packed")), key=lambda f: -f["size"])
        packed = [f for f in manifest["files"] if f.get("packed")]
        check(len(alone) >= 3 and len(packed) >= 2, f"files alone ({len(alone)}) and packed ({len(packed)})")
        flipped, deleted, shortened = alone[0], alone[1], alone[2]  # the largest gets the flip
        piece = packed[-1]

        def put(key, data):
            path = os.path.join(work, "object")
            with open(path, "wb") as f:
                f.write(data)
            aws.run("s3", "cp", path, f"s3://{bucket}/bk/{key}")

        aws.run("s3", "rm", f"s3://{bucket}/bk/{deleted['key']}")
        short = aws.read_bytes(bucket, "bk/" + shortened["key"])[:-100]
        put(shortened["key"], short)
        data = bytearray(aws.read_bytes(bucket, "bk/" + flipped["key"]))
        data[len(data) - 1000] ^= 0x10
        put(flipped["key"], bytes(data))
        data = bytearray(aws.read_bytes(bucket, "bk/" + piece["key"]))
        data[piece["offset"] + piece["size"] // 3] ^= 0x10
        put(piece["key"], bytes(data))

        quick = verify(conn, "snap", repo="s3r")
        check(quick == sorted([(deleted["key"], "", "missing"),
                               (shortened["key"], "", f"size {len(short)}, expected {shortened['size']}")]),
              f"quick names the deleted and the shortened object: {quick}")
        full = {r[0]: r for r in verify(conn, "snap", '"mode" = "full"', repo="s3r")}
        check(len(full) == 4 and deleted["key"] in full and shortened["key"] in full,
              f"full names the deleted and the shortened object too: {sorted(full)}")
        bad = full.get(flipped["key"], ("", "", ""))
        check(bad[2].startswith("hash mismatch") and "checksum mismatch" in bad[2] and flipped["name"] in bad[1],
              f"full names the object with a flipped byte: {bad}")
        bad = full.get(piece["key"], ("", "", ""))
        check(bad[2].startswith("hash mismatch") and f"at offset {piece['offset']}" in bad[2]
              and piece["name"] in bad[1], f"full names the damaged file inside the pack: {bad}")
    finally:
        server.stop()
    return finish(work, log_path)


if __name__ == "__main__":
    sys.exit(main())
