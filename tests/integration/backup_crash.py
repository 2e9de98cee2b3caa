#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# kill -9 in every state of a BACKUP, then a restart: the same job (same JobId) continues from
# its journaled state and finishes, its snapshot links still in place, files it had stored not
# sent again, and the snapshot is whole. The server is held in a state with the test-only
# TV_TEST_PAUSE_BACKUP_IN=<STATE> (the job waits on entering that state) so the kill lands there.
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (backup_of, check, connect, data_objects, finish, manifest_of, query, released,  # noqa: E402
                              segment_files, segment_of, snapshot_objects, stored_bytes, wait_for)

# UPLOADING first: later backups reuse its files and upload nothing.
STATES = ["UPLOADING", "PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "SAVE_META", "UPLOAD_INFO"]


def start(server, pause=None):
    if pause:
        os.environ["TV_TEST_PAUSE_BACKUP_IN"] = pause
    try:
        server.start()
    finally:
        os.environ.pop("TV_TEST_PAUSE_BACKUP_IN", None)
    return connect(server)


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-backup-crash-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, ["--set", "backup_pack_size=64K"])
    try:
        conn = start(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE t (k INT, v VARCHAR(128)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        for batch in range(3):
            query(conn, "INSERT INTO t VALUES " + ", ".join(f"({batch * 1000 + i}, '{'v' * 100}')" for i in range(300)))
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        server.stop()

        for n, state in enumerate(STATES):
            label = f"crash_{state.lower()}"
            if state == "UPLOADING":
                # Killed half-way: slow enough that some packs are stored and some are not.
                conn = start(server)
                query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo PROPERTIES ('max_upload_speed_kbps' = '16')")
                held = wait_for(conn, "d", {state}, timeout=30)
                deadline = time.time() + 30
                while time.time() < deadline and not data_objects(location, "repo"):
                    time.sleep(0.05)
                time.sleep(0.6)  # past the journal's flush of the stored files
            else:
                conn = start(server, pause=state)
                query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo")
                held = wait_for(conn, "d", {state}, timeout=30)
            links = os.path.join(data_dir, "snapshot", held["JobId"])
            had_links = os.path.isdir(links) and len(os.listdir(links)) > 0
            before = data_objects(location, "repo")
            if state == "UPLOADING":
                check(0 < len(before), f"UPLOADING: killed with {len(before)} packs stored")
            server.stop(signal.SIGKILL)

            conn = start(server)
            if state not in ("PENDING", "SNAPSHOTING"):
                check(had_links, f"{state}: the snapshot links were in place when the server was killed")
            row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
            check(row["JobId"] == held["JobId"] and row["State"] == "FINISHED" and row["Status"] == "[OK]",
                  f"kill -9 in {state}: the same job finishes after the restart: {row['JobId']} {row['State']} "
                  f"{row['Status']}")
            after = data_objects(location, "repo")
            check(all(after.get(k) == v for k, v in before.items()),
                  f"{state}: objects stored before the kill are not written again")
            check(len([o for o in snapshot_objects(location, "repo", label) if o.startswith("__info_")]) == 1,
                  f"{state}: one info object")
            manifest = manifest_of(location, "repo", label)
            segments = segment_files(data_dir)
            check(len(manifest["files"]) > 0 and all(
                segment_of(segments, f) == stored_bytes(location, f) for f in manifest["files"]),
                f"{state}: the snapshot is whole ({len(manifest['files'])} files)")
            check(released(links), f"{state}: the links are released once finished")
            check(sum(f["rows"] for f in manifest["files"]) == 900, f"{state}: it holds every row")
            if state == "UPLOADING":
                check(len(after) > len(before), "UPLOADING: the rest was uploaded after the restart")
            server.stop()
        check(server.sanitizer_reports() == [], "no sanitizer reports")
        log = open(log_path).read()
        check("resuming backup" in log, "the log says which jobs were resumed")
    finally:
        server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
