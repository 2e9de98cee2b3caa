#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# ADMIN VERIFY SNAPSHOT on a local repository, against the objects on disk: a good snapshot is
# one OK row in quick and full mode; then one data object deleted, one truncated, one with a
# flipped byte, and a flipped byte inside a pack piece: quick names the deleted and truncated
# ones (the others keep their sizes), full names all four, each with its problem and the
# damaged file; a full verify writes nothing under the data dir. A damaged meta object is a
# row naming it. SHOW VERIFY follows a throttled full verification from another session while
# it runs and shows its end; CANCEL VERIFY ends one; none is shown after a restart. A READ ONLY
# repository verifies. Bad input gets its error.
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (check, columns_of, connect, error_of, finish, manifest_of, query,  # noqa: E402
                              repo_root, snapshot_objects, wait_for)
from restore_test_util import insert_rows  # noqa: E402

# Files of `big` are objects of their own; those of `small` are packed.
FLAGS = ["--set", "backup_pack_threshold=16K", "--set", "backup_pack_size=256K"]
OK = [("", "", "OK")]


def verify(conn, label, props="", repo="repo"):
    """ADMIN VERIFY SNAPSHOT's rows, sorted."""
    names, rows = columns_of(conn, f"ADMIN VERIFY SNAPSHOT {label} ON {repo}" + (f" PROPERTIES ({props})" if props else ""))
    if names != ["Object", "File", "Problem"]:
        raise RuntimeError(f"unexpected columns {names}")
    return sorted(tuple(r) for r in rows)


def files_under(path):
    """Every file below `path` with its size and modification time."""
    out = {}
    for parent, _, names in os.walk(path):
        for name in names:
            st = os.stat(os.path.join(parent, name))
            out[os.path.join(parent, name)] = (st.st_size, st.st_mtime_ns)
    return out


def create_tables(conn):
    """Database d: `big`, whose files are objects of their own under FLAGS, and `small`, packed."""
    query(conn, "CREATE DATABASE d")
    query(conn, "USE d")
    query(conn, "CREATE TABLE big (k INT, v VARCHAR(1024)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    query(conn, "CREATE TABLE small (k INT, v VARCHAR(128)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")


def show_verify(conn, repo=None):
    names, rows = columns_of(conn, "SHOW VERIFY" + (f" FROM {repo}" if repo else ""))
    return [dict(zip(names, r)) for r in rows]


def file_path(f):
    return f"{f['db']}/{f['table']}/{f['partition']}/{f['index']}/{f['tablet_id']}/{f['name']}"


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


def in_background(server, sql):
    """Runs `sql` on its own connection; the dict gets its rows or error."""
    out = {}

    def run():
        conn = connect(server)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                out["rows"] = cur.fetchall()
        except Exception as e:  # noqa: BLE001 (the test checks what it was)
            out["error"] = e.args
        finally:
            conn.close()
    t = threading.Thread(target=run)
    t.start()
    return t, out


def wait_running(conn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = [r for r in show_verify(conn) if r["State"] == "RUNNING"]
        if rows and int(rows[0]["BytesDone"]) > 0:
            return rows[0]
        time.sleep(0.05)
    return None


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-verify-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, FLAGS)
    try:
        server.start()
        conn = connect(server)
        create_tables(conn)
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        for batch in range(4):
            insert_rows(conn, "big", batch * 1000, 300, 1000, seed=batch)
            insert_rows(conn, "small", batch * 1000, 20, 50, seed=10 + batch)
        for label in ("snap1", "snap2"):
            query(conn, f"BACKUP SNAPSHOT d.{label} TO repo")
            row = wait_for(conn, "d", {"FINISHED", "CANCELLED"})
            check(row["State"] == "FINISHED", f"backup {label} finished: {row['Status']}")

        check(verify(conn, "snap1") == OK, "quick verify of a good snapshot: one OK row")
        before = files_under(data_dir)
        check(verify(conn, "snap1", '"mode" = "full"') == OK, "full verify of a good snapshot: one OK row")
        check(files_under(data_dir) == before, "a full verify wrote nothing under the data dir")
        ts = query(conn, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'snap1'")[0][1]
        check(verify(conn, "snap1", f'"backup_timestamp" = "{ts}", "mode" = "FULL"') == OK,
              "full verify with the snapshot's timestamp: one OK row")
        rows = show_verify(conn, "repo")
        check(len(rows) == 3 and all(r["State"] == "FINISHED" and r["Problems"] == "0" for r in rows),
              f"SHOW VERIFY lists the three finished verifications: {rows}")
        last = rows[-1]
        check(last["Mode"] == "full" and last["Timestamp"] == ts and last["FilesDone"] == last["FilesTotal"]
              and last["BytesDone"] == last["BytesTotal"] and int(last["BytesTotal"]) > 1_000_000
              and last["FinishTime"] is not None and last["CurrentRate"] is None,
              f"the full one read every byte: {last}")
        check(rows[0]["Mode"] == "quick" and rows[0]["BytesTotal"] == "0", f"a quick one reads no data: {rows[0]}")

        # Damage: three objects of big's files and one piece of small's pack.
        manifest = manifest_of(location, "repo", "snap1")
        alone = sorted({f["key"] for f in manifest["files"] if not f.get("packed")})
        packed = [f for f in manifest["files"] if f.get("packed")]
        check(len(alone) >= 3 and len(packed) >= 2, f"the snapshot has files alone ({len(alone)}) and packed ({len(packed)})")
        deleted, truncated, flipped = alone[0], alone[1], alone[2]
        by_key = {f["key"]: f for f in manifest["files"] if not f.get("packed")}
        piece = packed[1]
        originals = {}
        for key in (deleted, truncated, flipped, piece["key"]):
            with open(os.path.join(location, key), "rb") as f:
                originals[key] = f.read()
        os.remove(os.path.join(location, deleted))
        size = os.path.getsize(os.path.join(location, truncated))
        os.truncate(os.path.join(location, truncated), size // 2)
        flip(os.path.join(location, flipped), os.path.getsize(os.path.join(location, flipped)) // 2)
        flip(os.path.join(location, piece["key"]), piece["offset"] + piece["size"] // 2)

        quick = verify(conn, "snap1")
        check(quick == sorted([(deleted, "", "missing"), (truncated, "", f"size {size // 2}, expected {size}")]),
              f"quick names the deleted and the truncated object: {quick}")
        full = verify(conn, "snap1", '"mode" = "full"')
        by_object = {r[0]: r for r in full}
        check(len(full) == 4 and by_object.get(deleted) == (deleted, "", "missing")
              and by_object.get(truncated) == (truncated, "", f"size {size // 2}, expected {size}"),
              f"full names the deleted and the truncated object too: {full}")
        bad = by_object.get(flipped, ("", "", ""))
        check(bad[1] == file_path(by_key[flipped]) and bad[2].startswith("hash mismatch: its ")
              and by_key[flipped]["xxh3_128"] in bad[2] and "segment check: segment" in bad[2]
              and "checksum mismatch" in bad[2],
              f"full names the flipped object, its file, the hash and the segment check: {bad}")
        bad = by_object.get(piece["key"], ("", "", ""))
        check(bad[1] == file_path(piece) and f"at offset {piece['offset']}" in bad[2]
              and "hash mismatch" in bad[2] and "segment check: segment" in bad[2],
              f"full names the damaged file inside the pack: {bad}")

        # Both snapshots share these objects: put them back as they were.
        for key, data in originals.items():
            with open(os.path.join(location, key), "wb") as f:
                f.write(data)
        check(verify(conn, "snap2", '"mode" = "full"') == OK, "with the objects repaired, full verify is OK again")

        # A damaged meta object is a problem of the snapshot, named.
        meta = [n for n in snapshot_objects(location, "repo", "snap2") if n.startswith("__meta_")][0]
        meta_path = os.path.join(repo_root(location, "repo"), "__ss_snap2", meta)
        flip(meta_path, 10)
        rows = verify(conn, "snap2")
        key = f"__tabletvault_repository_repo/__ss_snap2/{meta}"
        check(len(rows) == 1 and rows[0][0] == key and rows[0][2].startswith("unreadable: ")
              and "is damaged" in rows[0][2], f"a damaged meta object is named: {rows}")
        flip(meta_path, 10)

        # A throttled full verification, followed from another session.
        query(conn, 'ADMIN SET FRONTEND CONFIG ("max_download_speed_kbps" = "200")')
        t, out = in_background(server, 'ADMIN VERIFY SNAPSHOT snap2 ON repo PROPERTIES ("mode" = "full")')
        first = wait_running(conn)
        check(first is not None and first["Snapshot"] == "snap2" and first["Mode"] == "full"
              and first["RateLimit"] == "200" and first["FinishTime"] is None,
              f"SHOW VERIFY shows the running verification and its limit: {first}")
        time.sleep(1.5)
        second = [r for r in show_verify(conn) if r["JobId"] == (first or {}).get("JobId")]
        check(second and second[0]["State"] == "RUNNING" and int(second[0]["BytesDone"]) > int(first["BytesDone"])
              and int(second[0]["BytesDone"]) < int(second[0]["BytesTotal"])
              and 0 < int(second[0]["CurrentRate"] or 0) < 400 * 1024,
              f"its bytes move at about the limit: {second}")
        query(conn, 'ADMIN SET FRONTEND CONFIG ("max_download_speed_kbps" = "0")')
        t.join(60)
        check(out.get("rows") == (("", "", "OK"),), f"the throttled verification answered OK: {out}")
        done = [r for r in show_verify(conn) if r["JobId"] == (first or {}).get("JobId")]
        check(done and done[0]["State"] == "FINISHED" and done[0]["BytesDone"] == done[0]["BytesTotal"]
              and done[0]["Problems"] == "0" and done[0]["FinishTime"] is not None,
              f"and SHOW VERIFY shows its end: {done}")

        # CANCEL VERIFY ends a running one; the statement answers the cancel.
        query(conn, 'ADMIN SET FRONTEND CONFIG ("max_download_speed_kbps" = "100")')
        t, out = in_background(server, 'ADMIN VERIFY SNAPSHOT snap2 ON repo PROPERTIES ("mode" = "full")')
        check(wait_running(conn) is not None, "a second throttled verification runs")
        query(conn, "CANCEL VERIFY FROM repo")
        t.join(30)
        check(out.get("error") == (1317, "Query execution was interrupted: the verification was cancelled"), f"the cancelled statement fails: {out}")
        last = show_verify(conn)[-1]
        check(last["State"] == "CANCELLED" and last["Status"] == "cancelled", f"SHOW VERIFY shows CANCELLED: {last}")

        # A restart forgets verifications, and one running at the stop is not shown as running.
        t, out = in_background(server, 'ADMIN VERIFY SNAPSHOT snap2 ON repo PROPERTIES ("mode" = "full")')
        check(wait_running(conn) is not None, "a third throttled verification runs")
        server.stop()
        t.join(30)
        server.start()
        conn = connect(server)
        check(show_verify(conn) == [], "after a restart SHOW VERIFY shows nothing")
        query(conn, 'ADMIN SET FRONTEND CONFIG ("max_download_speed_kbps" = "0")')

        # A READ ONLY repository verifies (it only reads).
        query(conn, "DROP REPOSITORY repo")
        query(conn, f'CREATE READ ONLY REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        check(verify(conn, "snap2", '"mode" = "full"') == OK, "a READ ONLY repository verifies")

        # Bad input.
        cases = [
            ("ADMIN VERIFY SNAPSHOT snap2 ON nosuch", (1064, "Repository nosuch does not exist")),
            ("ADMIN VERIFY SNAPSHOT nosuch ON repo",
             (1064, "Failed to get info of snapshot 'nosuch' because: the repository has no snapshot with this label. "
                    "Maybe specified wrong backup timestamp")),
            ("ADMIN VERIFY SNAPSHOT snap2 ON repo PROPERTIES (\"backup_timestamp\" = \"2001-01-01-00-00-00-000\")",
             (1064, "Failed to get info of snapshot 'snap2' because: it has no snapshot taken at "
                    "2001-01-01-00-00-00-000. Maybe specified wrong backup timestamp")),
            ("ADMIN VERIFY SNAPSHOT snap2 ON repo PROPERTIES (\"mode\" = \"fast\")",
             (1064, "Invalid mode: fast; it is quick or full")),
            ("ADMIN VERIFY SNAPSHOT snap2 ON repo PROPERTIES (\"mode\" = \"full\", \"colour\" = \"red\")",
             (1064, "Unknown verify job properties: [colour]")),
            ("SHOW VERIFY FROM nosuch", (1064, "Repository nosuch does not exist")),
        ]
        for sql, expected in cases:
            got = error_of(conn, sql)
            check(got == expected, f"{sql}: {got}")
        query(conn, "CREATE USER plain IDENTIFIED BY 'pw'")
        plain = connect(server, "plain", "pw")
        got = error_of(plain, "ADMIN VERIFY SNAPSHOT snap2 ON repo")
        check(got is not None and got[0] == 1227 and "ADMIN VERIFY SNAPSHOT" in got[1],
              f"a user without db_admin is refused: {got}")
        got = error_of(plain, "SHOW VERIFY")
        check(got is not None and got[0] == 1227, f"and SHOW VERIFY too: {got}")
    finally:
        server.stop()
    return finish(work, log_path)


if __name__ == "__main__":
    sys.exit(main())
