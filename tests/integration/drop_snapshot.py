#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# DROP SNAPSHOT end to end on a local repository: incremental backups that share data objects
# and pack objects; dropping one frees exactly the objects no remaining manifest references
# (counted against the manifests on disk), repacks the packs it left mostly dead, and keeps
# every byte the remaining snapshots need (each manifest entry still reads back as its segment
# file, and restoring the remaining snapshots gives the backed-up checksums). A DROP killed after
# each of its steps (failure points drop.*, TV_FAILPOINTS) is finished by running it again. Leases: a
# BACKUP running in the repository (held in UPLOADING with TV_TEST_PAUSE_BACKUP_IN) makes a DROP
# keep all data and refuse to drop that backup's label; a drop lease makes a BACKUP wait; a
# backup whose lease lapsed while its sweep ran long takes it again (delay points) and waits for
# a drop that began meanwhile.
import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (check, columns_of, connect, data_objects, error_of, finish, query,  # noqa: E402
                              repo_root, segment_files, segment_of, stored_bytes, wait_for)
from restore_test_util import fingerprint, insert_rows, run_restore  # noqa: E402

# Files of tables with wide rows are objects of their own; narrow ones are packed.
FLAGS = ["--set", "backup_pack_threshold=16K", "--set", "backup_pack_size=256K",
         "--set", "snapshot_gc_grace_period=0", "--set", "snapshot_repack_threshold=50",
         "--set", "repository_lease_timeout=3"]
COLUMNS = ["SnapshotsDropped", "ObjectsFreed", "BytesFreed", "PacksRepacked", "BytesRepacked",
           "ObjectsKeptInGrace", "Status"]


def manifests(location):
    """Every manifest in the repository, by file name."""
    root = repo_root(location, "repo")
    out = {}
    for label_dir in sorted(os.listdir(root)):
        if not label_dir.startswith("__ss_"):
            continue
        for name in os.listdir(os.path.join(root, label_dir)):
            if name.startswith("__manifest_"):
                with open(os.path.join(root, label_dir, name)) as f:
                    out[f"{label_dir}/{name}"] = json.load(f)
    return out


def referenced(location):
    """The data objects the manifests name, relative to __data."""
    prefix = "__tabletvault_repository_repo/__data/"
    return {f["key"][len(prefix):] for m in manifests(location).values() for f in m["files"]}


def drop(conn, sql):
    names, rows = columns_of(conn, sql)
    if names != COLUMNS or len(rows) != 1:
        raise RuntimeError(f"{sql}: unexpected result {names} {rows}")
    return dict(zip(names, rows[0]))


def wait_no_leases(location, timeout=10, repo="repo"):
    """A finished backup releases its lease just after SHOW BACKUP says FINISHED."""
    lock = os.path.join(repo_root(location, repo), "__lock")
    deadline = time.time() + timeout
    while os.path.isdir(lock) and os.listdir(lock) and time.time() < deadline:
        time.sleep(0.05)
    return not os.path.isdir(lock) or os.listdir(lock) == []


def backup_lease_written(location, timeout=30, repo="repo"):
    """When the running backup's lease object was last written (its mtime), once it is there."""
    lock = os.path.join(repo_root(location, repo), "__lock")
    deadline = time.time() + timeout
    while time.time() < deadline:
        names = [n for n in (os.listdir(lock) if os.path.isdir(lock) else []) if n.startswith("backup-")
                 and ".tvtmp-" not in n]
        if names:
            return os.stat(os.path.join(lock, names[0])).st_mtime
        time.sleep(0.02)
    return None


def backup(conn, location, label, on=""):
    query(conn, f"BACKUP SNAPSHOT d.{label} TO repo" + (f" ON ({on})" if on else ""))
    row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
    check(row["State"] == "FINISHED" and row["SnapshotName"] == label, f"backup {label} finished: {row['Status']}")
    check(wait_no_leases(location), f"backup {label} released its lease")


def timestamp_of(conn, label):
    rows = query(conn, f"SHOW SNAPSHOT ON repo WHERE SNAPSHOT = '{label}'")
    return rows[0][1]


def labels(conn):
    return {r[0]: r[2] for r in query(conn, "SHOW SNAPSHOT ON repo")}


class Run:
    def __init__(self, server, data_dir, location):
        self.server, self.data_dir, self.location = server, data_dir, location
        self.restored = 0

    def connect(self):
        conn = connect(self.server)
        query(conn, "USE d")
        return conn

    def restart(self, env=None):
        if self.server.process is not None:
            self.server.stop()
        for k, v in (env or {}).items():
            os.environ[k] = v
        try:
            self.server.start()
        finally:
            for k in (env or {}):
                os.environ.pop(k, None)
        return self.connect()

    def check_repository(self, what):
        """Every object a manifest names exists and reads back as its segment; nothing else is in
        __data (the grace period is 0)."""
        objects = data_objects(self.location, "repo")
        needed = referenced(self.location)
        missing = sorted(needed - set(objects))
        check(missing == [], f"{what}: every object a remaining manifest names is there: {missing[:3]}")
        extra = sorted(set(objects) - needed)
        check(extra == [], f"{what}: no object is left that no manifest names: {extra[:3]}")
        segments = segment_files(self.data_dir)
        bad = []
        for name, m in manifests(self.location).items():
            for f in m["files"]:
                expected = segment_of(segments, f)
                if expected is not None and (f["key"][len("__tabletvault_repository_repo/__data/"):] in objects) \
                        and stored_bytes(self.location, f) != expected:
                    bad.append((name, f["name"]))
        check(bad == [], f"{what}: every manifest entry reads back as its segment file's bytes: {bad[:3]}")

    def check_restores(self, conn, label, expected, what):
        self.restored += 1
        ts = timestamp_of(conn, label)
        aliases = ", ".join(f"{t} AS {t}_r{self.restored}" for t in expected)
        _, row = run_restore(conn, f"RESTORE SNAPSHOT d.{label} FROM repo ON ({aliases}) "
                                   f"PROPERTIES (\"backup_timestamp\" = \"{ts}\")", "d", timeout=120)
        check(row["State"] == "FINISHED", f"{what}: RESTORE of {label} finished: {row['Status']}")
        for t, fp in expected.items():
            got = fingerprint(conn, f"d.{t}_r{self.restored}")
            check(got == fp, f"{what}: {t} restored from {label} has the backed-up checksum {fp}: {got}")

    def crash(self, conn, step, sql):
        """Runs `sql` on a server that exits after `step`; yields a connection to a restarted one."""
        point = {"info": "drop.after_info", "metadata": "drop.after_metadata", "delete": "drop.delete.midway",
                 "repack_manifest": "drop.repack.after_manifest"}[step]
        conn = self.restart({"TV_FAILPOINTS": f"{point}=crash"})
        err = error_of(conn, sql)
        code = self.server.process.wait(timeout=30)
        self.server.process = None
        check(err is not None and code == -signal.SIGKILL, f"crash after {step}: the server died in the statement ({code})")
        return self.restart()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-drop-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, FLAGS)
    run = Run(server, data_dir, location)
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        for t in ("big", "gone_big"):
            query(conn, f"CREATE TABLE {t} (k INT, v VARCHAR(512)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        for t in ("small", "gone_small"):
            query(conn, f"CREATE TABLE {t} (k INT, v VARCHAR(128)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        insert_rows(conn, "big", 0, 200, 300, seed=1)
        insert_rows(conn, "gone_big", 0, 200, 300, seed=2)
        insert_rows(conn, "small", 0, 20, 20, seed=3)
        for batch in range(4):
            insert_rows(conn, "gone_small", batch * 1000, 60, 100, seed=10 + batch)

        # snap1 holds all four tables; snap2 and snap3 only big and small, reusing snap1's objects
        # and the files of small inside snap1's pack.
        backup(conn, location, "snap1")
        insert_rows(conn, "big", 1000, 200, 300, seed=4)
        insert_rows(conn, "small", 1000, 20, 20, seed=5)
        backup(conn, location, "snap2", "big, small")
        fp2 = {t: fingerprint(conn, f"d.{t}") for t in ("big", "small")}
        insert_rows(conn, "big", 2000, 200, 300, seed=6)
        backup(conn, location, "snap3", "big, small")
        fp3 = {t: fingerprint(conn, f"d.{t}") for t in ("big", "small")}

        before = data_objects(location, "repo")
        snap1_files = next(m for n, m in manifests(location).items() if n.startswith("__ss_snap1/"))["files"]
        others = {f["key"] for n, m in manifests(location).items() if not n.startswith("__ss_snap1/")
                  for f in m["files"]}
        prefix = "__tabletvault_repository_repo/__data/"
        only_snap1 = {f["key"][len(prefix):] for f in snap1_files if f["key"] not in others}
        pack_keys = {f["key"] for f in snap1_files if f.get("packed") and f["key"] in others}
        live_ranges = {(g["key"], g["offset"], g["size"]) for n, m in manifests(location).items()
                       if not n.startswith("__ss_snap1/") for g in m["files"] if g.get("packed")}
        live_in_packs = sum(size for key, _, size in live_ranges if key in pack_keys)
        check(len(only_snap1) >= 2 and pack_keys, f"snap1 has objects of its own ({len(only_snap1)}) and shares "
                                                  f"{len(pack_keys)} pack(s) with snap2 and snap3")

        r = drop(conn, "DROP SNAPSHOT ON repo WHERE SNAPSHOT = 'snap1'")
        print(f"# {r}")
        freed_bytes = sum(before[k][0] for k in only_snap1)
        dead_in_packs = sum(before[k[len(prefix):]][0] for k in pack_keys) - live_in_packs
        check(r["SnapshotsDropped"] == "1" and r["Status"] == "OK", f"snap1 dropped: {r}")
        check(r["ObjectsFreed"] == str(len(only_snap1)),
              f"the {len(only_snap1)} objects only snap1 named were freed: {r['ObjectsFreed']}")
        check(r["PacksRepacked"] == str(len(pack_keys)) and r["BytesRepacked"] == str(live_in_packs),
              f"the shared pack(s) were repacked, {live_in_packs} live bytes copied: {r}")
        check(r["BytesFreed"] == str(freed_bytes + dead_in_packs),
              f"bytes freed = {freed_bytes} of whole objects + {dead_in_packs} dead in packs: {r['BytesFreed']}")
        after = data_objects(location, "repo")
        check(all(k not in after for k in only_snap1) and all(k[len(prefix):] not in after for k in pack_keys),
              "snap1's own objects and the old pack(s) are gone")
        check("snap1" not in labels(conn) and not any(files for _, _, files in os.walk(os.path.join(repo_root(location, "repo"), "__ss_snap1"))),
              "snap1 is no longer listed and its directory is empty")
        run.check_repository("after dropping snap1")
        run.check_restores(conn, "snap2", fp2, "after dropping snap1")
        run.check_restores(conn, "snap3", fp3, "after dropping snap1")

        # Crashes. Each snapshot has a table of its own, so a drop has something to free.
        for step, table in {"info": "c1", "metadata": "c2", "delete": "c3"}.items():
            query(conn, f"CREATE TABLE {table} (k INT, v VARCHAR(512)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
            insert_rows(conn, table, 0, 400, 300, seed=len(step))
            backup(conn, location, f"snap_{step}", f"big, {table}")
            query(conn, f"DROP TABLE {table}")
            others = set()
            own = set()
            for n, m in manifests(location).items():
                keys = {f["key"][len(prefix):] for f in m["files"]}
                (own if n.startswith(f"__ss_snap_{step}/") else others).update(keys)
            own -= others
            conn = run.crash(conn, step, f"DROP SNAPSHOT snap_{step} ON repo")
            listed = labels(conn)
            if step == "info":
                check(listed.get(f"snap_{step}") == "ERROR: no snapshot",
                      f"after a crash past step {step}: the snapshot is no longer OK: {listed}")
            else:
                check(f"snap_{step}" not in listed, f"after a crash past step {step}: the snapshot is gone: {listed}")
            left = own & set(data_objects(location, "repo"))
            if step == "delete":
                check(0 < len(left) < len(own), f"the crash came midway through deleting: {len(left)} of {len(own)} left")
            else:
                check(len(own) >= 4 and left == own, f"after a crash past step {step}: the snapshot's {len(own)} objects are there")
            r = drop(conn, f"DROP SNAPSHOT snap_{step} ON repo")
            check(r["Status"] == "OK" and r["ObjectsFreed"] == str(len(left)),
                  f"the re-run after a crash past step {step} frees the {len(left)} objects left: {r}")
            run.check_repository(f"after the re-run past step {step}")

        # A crash after the first manifest was rewritten by a repack: the packs of snap_pack hold
        # mostly files of `gone`, and snap_keep reuses the others.
        query(conn, "CREATE TABLE gone (k INT, v VARCHAR(128)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        for batch in range(4):
            insert_rows(conn, "gone", batch * 1000, 60, 100, seed=40 + batch)
        insert_rows(conn, "small", 3000, 20, 20, seed=50)
        backup(conn, location, "snap_pack", "small, gone")
        backup(conn, location, "snap_keep", "small")
        fp_keep = {"small": fingerprint(conn, "d.small")}
        conn = run.crash(conn, "repack_manifest", "DROP SNAPSHOT snap_pack ON repo")
        r = drop(conn, "DROP SNAPSHOT snap_pack ON repo")
        check(r["Status"] == "OK", f"the re-run after a crash mid-repack finishes: {r}")
        run.check_repository("after the re-run of a repack")
        run.check_restores(conn, "snap_keep", fp_keep, "after the re-run of a repack")
        run.check_restores(conn, "snap3", fp3, "after the re-run of a repack")

        # A BACKUP holding its lease (paused in UPLOADING): the drop removes the snapshot but
        # keeps all data, and refuses to drop the label the backup writes.
        conn = run.restart({"TV_TEST_PAUSE_BACKUP_IN": "UPLOADING"})
        insert_rows(conn, "big", 5000, 100, 300, seed=60)
        query(conn, "BACKUP SNAPSHOT d.snap_race TO repo ON (big)")
        wait_for(conn, "d", {"UPLOADING"}, timeout=60)
        err = error_of(conn, "DROP SNAPSHOT snap_race ON repo")
        check(err is not None and err[0] == 1064 and "being written by a running BACKUP" in err[1],
              f"the label a running backup writes cannot be dropped: {err}")
        before = data_objects(location, "repo")
        r = drop(conn, "DROP SNAPSHOT snap2 ON repo")
        check(r["SnapshotsDropped"] == "1" and r["ObjectsFreed"] == "0" and r["Status"].startswith("DATA KEPT"),
              f"with a backup running, snap2 is dropped but no data is deleted: {r}")
        check(set(before) <= set(data_objects(location, "repo")), "every data object is still there")
        conn = run.restart()
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "FINISHED", f"the backup resumed after the restart finished: {row['Status']}")
        check(wait_no_leases(location), "the resumed backup released its lease")
        fp_race = {"big": fingerprint(conn, "d.big")}
        r = drop(conn, "DROP SNAPSHOT snap2 ON repo")
        check(r["Status"] == "OK", f"run again once the backup finished, the drop completes: {r}")
        run.check_repository("after the drop that waited for a backup")
        run.check_restores(conn, "snap_race", fp_race, "after the drop that waited for a backup")

        # A drop lease (as another server's DROP SNAPSHOT writes it) makes a BACKUP wait.
        lock = os.path.join(repo_root(location, "repo"), "__lock", "drop-otherserver-1")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        with open(lock, "w") as f:
            f.write('{"kind":"drop","label":"","start_ms":0}')
        query(conn, "BACKUP SNAPSHOT d.snap_wait TO repo ON (small)")
        time.sleep(1.5)
        with open(lock, "w") as f:  # refreshed, as its holder would
            f.write('{"kind":"drop","label":"","start_ms":0}')
        row = query(conn, "SHOW BACKUP FROM d")[0]
        check(row[1] == "snap_wait" and row[3] != "FINISHED", f"the backup waits while a drop lease is live: {row[3]}")
        os.remove(lock)
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["State"] == "FINISHED", f"the backup finishes once the drop lease is gone: {row['Status']}")
        check(wait_no_leases(location), "no lease is left in __lock/")

        # A backup whose lease lapsed while its sweep ran long (delay point backup.sweep.before)
        # takes it again before it reads the repository. Meanwhile a DROP saw no live lease and
        # chose the dropped snapshot's objects to delete (delay point drop.delete.before holds it
        # there): the backup waits for that drop's lease instead of reusing those objects, so its
        # snapshot is whole. (Without taking the lease again it would reuse them, finish, and
        # then lose them to the drop.)
        conn = run.connect()
        query(conn, "CREATE TABLE lapse (k INT, v VARCHAR(300)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        insert_rows(conn, "lapse", 0, 400, 300, seed=70)
        fp_lapse = {"lapse": fingerprint(conn, "d.lapse")}
        backup(conn, location, "snap_lapse1", "lapse")
        conn = run.restart({"TV_FAILPOINTS": "backup.sweep.before=delay:15000,drop.delete.before=delay:15000"})
        query(conn, "BACKUP SNAPSHOT d.snap_lapse2 TO repo ON (lapse)")
        written = backup_lease_written(location)
        check(written is not None, "the backup wrote its lease")
        # Its lease (repository_lease_timeout=3) lapses in the sweep; the drop checks the leases
        # well before the sweep ends and deletes well after a backup that did not wait would
        # have reused the objects.
        time.sleep(max(0.0, written + 3.5 - time.time()))
        r = drop(conn, "DROP SNAPSHOT snap_lapse1 ON repo")
        check(r["Status"] == "OK" and int(r["ObjectsFreed"]) > 0,
              f"the drop saw no live lease and freed snap_lapse1's objects: {r}")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["State"] == "FINISHED", f"the backup whose lease lapsed finished: {row['Status']}")
        log = open(log_path).read()
        check("backup.sweep.before: delaying" in log and "drop.delete.before: delaying" in log,
              "both delay points were passed")
        check("backup snap_lapse2: waiting for DROP SNAPSHOT to finish" in log,
              "the backup took its lease again and waited for the drop")
        check(wait_no_leases(location), "no lease is left in __lock/")
        run.check_repository("after a drop while a backup's lease had lapsed")
        run.check_restores(conn, "snap_lapse2", fp_lapse, "after a drop while a backup's lease had lapsed")

        # Every remaining snapshot drops by timestamp; the repository's data is then empty.
        newest = max(timestamp_of(conn, label) for label in labels(conn))
        r = drop(conn, f"DROP SNAPSHOT ON repo WHERE TIMESTAMP <= '{newest}'")
        check(r["Status"] == "OK" and labels(conn) == {}, f"WHERE TIMESTAMP <= drops every snapshot: {r}")
        check(data_objects(location, "repo") == {}, "nothing is left in __data once no snapshot remains")
        reports = server.sanitizer_reports()
        check(reports == [], f"no sanitizer reports: {reports[:3]}")
    finally:
        if server.process is not None:
            server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
