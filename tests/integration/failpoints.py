#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Every failure point of io/failpoint.hh, armed through TV_FAILPOINTS in a real server:
# - "crash" kills the server with SIGKILL at that exact place; after a restart without it the job
#   ends (FINISHED, or CANCELLED when it was being cancelled), a backup restores to equal
#   checksums, a restore leaves the overwritten table either as it was or as the snapshot, and no
#   snapshot links, staging or temporary files are left in the data dir or the repository;
# - "error" and "throw" fail the job there: CANCELLED with the point named in Status, the server
#   still serving, existing tables intact, nothing left over, and the next job succeeds.
# Usage: failpoints.py <tabletvault binary>
import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import (backup_of, check, connect, error_of, finish, manifest_of, query,  # noqa: E402
                              stream_load, wait_for)
from restore_test_util import (fingerprint, insert_rows, restore_of, snapshot_leftovers,  # noqa: E402
                               stray_tablet_files, table_names, tablet_dirs, wait_restore)

FLAGS = ["--set", "backup_pack_threshold=16K", "--set", "backup_pack_size=64K"]
HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "io", "failpoint.hh")
TEMP_MARKER = re.compile(r"\.tvtmp-")


def declared_points():
    text = open(HEADER).read()
    return re.findall(r'\{"([a-z_.]+)", failpoint_use::[a-z_]+\}', text)


class Harness:
    def __init__(self, binary, work):
        self.work = work
        self.data_dir = os.path.join(work, "data")
        self.location = os.path.join(work, "repo")
        self.log_path = os.path.join(work, "server.log")
        self.server = TvServer(binary, self.data_dir, self.log_path, FLAGS)
        self.labels = 0
        self.exercised = set()

    def start(self, failpoints=None, pause_backup=None, pause_restore=None):
        env = {"TV_FAILPOINTS": failpoints, "TV_TEST_PAUSE_BACKUP_IN": pause_backup,
               "TV_TEST_PAUSE_RESTORE_IN": pause_restore}
        for name, value in env.items():
            if value:
                os.environ[name] = value
        try:
            self.server.start()
        finally:
            for name in env:
                os.environ.pop(name, None)
        conn = connect(self.server)
        query(conn, "USE d")
        return conn

    def expect_killed(self, point):
        code = self.server.process.wait(timeout=60)
        self.server.process = None
        check(code == -signal.SIGKILL, f"{point}: the server killed itself there (exit {code})")
        check(f"failpoint {point}: crashing" in open(self.log_path).read(), f"{point}: the log names the point")
        self.exercised.add(point)

    def next_label(self):
        self.labels += 1
        return f"snap{self.labels}"

    def repository_temp_files(self):
        found = []
        for dirpath, _, filenames in os.walk(self.location):
            found += [os.path.join(dirpath, n) for n in filenames if TEMP_MARKER.search(n)]
        return found

    def check_clean(self, conn, what):
        check(snapshot_leftovers(self.data_dir) == [], f"{what}: nothing is left under <data_dir>/snapshot: "
              f"{snapshot_leftovers(self.data_dir)[:5]}")
        stray = stray_tablet_files(conn, self.data_dir)
        check(stray == [], f"{what}: every tablet file belongs to a table: {stray[:5]}")
        temps = self.repository_temp_files()
        check(temps == [], f"{what}: no temporary files in the repository: {temps[:5]}")

    def restores_equal(self, conn, label, what):
        """Restores `label`'s `t` as a new table: it equals `t` as backed up."""
        name = f"{label}_t"
        query(conn, f"RESTORE SNAPSHOT {label} FROM repo DATABASE d ON (TABLE t AS {name})")
        row = wait_restore(conn, "d", timeout=120)
        check(row["State"] == "FINISHED", f"{what}: the snapshot restores: {row['State']} {row['Status']}")
        check(fingerprint(conn, f"d.{name}") == self.source, f"{what}: the restored table equals the source")
        query(conn, f"DROP TABLE {name}")

    # Backups ---------------------------------------------------------------------------------

    def backup_crash(self, point, hit=1, pause=None):
        label = self.next_label()
        conn = self.start(failpoints=f"{point}=crash@{hit}")
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t)")
        self.expect_killed(point)
        conn = self.start()
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["SnapshotName"] == label and row["State"] == "FINISHED",
              f"{point}: after the restart the backup finishes: {row['State']} {row['Status']}")
        self.restores_equal(conn, label, point)
        self.check_clean(conn, point)
        self.server.stop()

    def backup_fails(self, point, action):
        label = self.next_label()
        conn = self.start(failpoints=f"{point}={action}")
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t)")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["State"] == "CANCELLED" and f"failpoint {point}" in row["Status"],
              f"{point}={action}: the backup is cancelled naming the point: {row['State']} {row['Status']}")
        if action == "throw":
            check("internal error" in row["Status"], f"{point}=throw: Status says it was an internal error")
        statuses = [r[2] for r in query(conn, "SHOW SNAPSHOT ON repo") if r[0] == label]
        check("OK" not in statuses, f"{point}={action}: the cancelled snapshot is not listed as OK: {statuses}")
        self.exercised.add(point)
        again = self.next_label()
        query(conn, f"BACKUP DATABASE d SNAPSHOT {again} TO repo ON (TABLE t)")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(row["SnapshotName"] == again and row["State"] == "FINISHED",
              f"{point}={action}: the server goes on and the next backup finishes: {row['Status']}")
        self.restores_equal(conn, again, f"{point}={action}")
        self.check_clean(conn, f"{point}={action}")
        self.server.stop()

    def backup_cancel_crash(self, state="UPLOADING", stores=True):
        """CANCEL BACKUP, then the server killed before the job's end was done (links, partial
        manifest, info object). Held in UPLOAD_INFO, the job had stored everything; an info
        object is planted there as if its PUT had come just before the cancel. After the
        restart the end is finished: the partial manifest is written (when the job stored files
        itself, `stores`), the info withdrawn."""
        point = "backup.cancel.before_cleanup"
        label = self.next_label()
        conn = self.start(failpoints=f"{point}=crash", pause_backup=state)
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t)")
        wait_for(conn, "d", {state}, timeout=60)
        check(snapshot_leftovers(self.data_dir, timeout=0) != [], f"{point}: the job holds its snapshot links")
        ss = os.path.join(self.location, "__tabletvault_repository_repo", f"__ss_{label}")
        if state == "UPLOAD_INFO":
            stamp = [n for n in os.listdir(ss) if n.startswith("__meta_")][0][len("__meta_"):].split(".")[0]
            with open(os.path.join(ss, f"__info_{stamp}.{'0' * 32}"), "w") as f:
                f.write("{}")
        try:
            query(conn, "CANCEL BACKUP FROM d")
        except Exception:  # the server may die before it answers
            pass
        self.expect_killed(point)
        conn = self.start()
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["SnapshotName"] == label and row["State"] == "CANCELLED",
              f"{point}: after the restart the backup stays cancelled: {row['State']}")
        if state == "UPLOAD_INFO":
            deadline = time.time() + 30
            def finished(names):
                return not any(n.startswith("__info_") for n in names) and \
                    any("_partial." in n for n in names) == stores and \
                    snapshot_leftovers(self.data_dir, timeout=0) == []
            while time.time() < deadline and not finished(os.listdir(ss)):
                time.sleep(0.05)
            names = sorted(os.listdir(ss))
            check(finished(names), f"{point} in {state}: after the restart the info object is withdrawn, a partial "
                                   f"manifest written if it stored files ({stores}), its links released: {names}")
            listed = [r for r in query(conn, "SHOW SNAPSHOT ON repo") if r[0] == label]
            check(all(r[2] != "OK" for r in listed), f"{point} in {state}: the label is not listed OK: {listed}")
        self.check_clean(conn, point)
        self.server.stop()

    def backup_cancel_then_backup_at_once(self):
        """CANCEL BACKUP of a job held in UPLOAD_INFO that stored files itself, and at once a
        BACKUP of the same database: the new job replaces the cancelled one's record in the job
        store, and the cancelled job's end still writes the partial manifest of what it stored
        (from the record kept when it ended)."""
        label = self.next_label()
        conn = self.start(pause_backup="UPLOAD_INFO")
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t)")
        wait_for(conn, "d", {"UPLOAD_INFO"}, timeout=60)
        query(conn, "CANCEL BACKUP FROM d")
        again = self.next_label()
        query(conn, f"BACKUP DATABASE d SNAPSHOT {again} TO repo ON (TABLE t)")
        ss = os.path.join(self.location, "__tabletvault_repository_repo", f"__ss_{label}")
        deadline = time.time() + 30
        while time.time() < deadline and not any("_partial." in n for n in os.listdir(ss)):
            time.sleep(0.05)
        names = sorted(os.listdir(ss))
        check(any("_partial." in n for n in names) and not any(n.startswith("__info_") for n in names),
              f"CANCEL then BACKUP at once: the cancelled job's partial manifest is written: {names}")
        wait_for(conn, "d", {"UPLOAD_INFO"}, timeout=60)  # the new one is held there too
        query(conn, "CANCEL BACKUP FROM d")
        check(wait_for(conn, "d", {"CANCELLED"}, timeout=30)["SnapshotName"] == again, "the second job is cancelled")
        self.check_clean(conn, "CANCEL then BACKUP at once")
        self.server.stop()

    def backup_resumed_over_removed_objects(self, state):
        """A backup held in `state` (SAVE_META or UPLOAD_INFO) while the server is down, its
        lease lapsing, and meanwhile an object it stored (a data object; in UPLOAD_INFO its
        manifest) is removed, as another server's DROP SNAPSHOT may: resumed, it checks before
        publishing and ends CANCELLED naming the object, with no snapshot listed."""
        label = self.next_label()
        conn = self.start(pause_backup=state)
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t)")
        wait_for(conn, "d", {state}, timeout=120)
        self.server.stop()
        root = os.path.join(self.location, "__tabletvault_repository_repo")
        if state == "UPLOAD_INFO":
            ss = os.path.join(root, f"__ss_{label}")
            victim = os.path.join(ss, [n for n in os.listdir(ss) if n.startswith("__manifest_")][0])
        else:
            found = []
            for dirpath, _, names in os.walk(os.path.join(root, "__data")):
                found += [os.path.join(dirpath, n) for n in names]
            victim = sorted(found, key=os.path.getmtime)[-1]  # one this backup stored
        os.remove(victim)
        conn = self.start()
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        key = os.path.relpath(victim, self.location)
        check(row["SnapshotName"] == label and row["State"] == "CANCELLED" and key in row["Status"]
              and "is gone from the repository" in row["Status"],
              f"resumed in {state} over a removed object: CANCELLED naming it: {row['State']} {row['Status']}")
        snapshots = query(conn, "SHOW SNAPSHOT ON repo")
        check(all(r[0] != label or r[2] != "OK" for r in snapshots), f"resumed in {state}: {label} is not listed OK")
        self.check_clean(conn, f"resumed in {state} over a removed object")
        self.server.stop()

    def backup_lease_lapsed_live(self):
        """A running backup whose lease lapses (its refresh held back past
        repository_lease_timeout, as when the repository cannot be written for a while) checks
        before it publishes that what it chose to reuse is still stored: an object removed
        meanwhile, as another server's DROP SNAPSHOT may, ends it CANCELLED naming the object."""
        point = "lease.refresh.before"
        stored_first = self.next_label()
        conn = self.start()
        query(conn, f"BACKUP DATABASE d SNAPSHOT {stored_first} TO repo ON (TABLE t)")
        check(wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)["State"] == "FINISHED",
              f"{point}: the first backup finishes")
        # Uploaded at 100 KB/s, these rows keep the next backup in UPLOADING for about 6 s, past
        # the 3 s lease timeout.
        insert_rows(conn, "t", 1500000, 2400, 250, seed=31)
        self.server.stop()
        base_keys = {f["key"] for f in manifest_of(self.location, "repo", self.base)["files"]}
        first_keys = sorted({f["key"] for f in manifest_of(self.location, "repo", stored_first)["files"]} - base_keys)
        self.server.extra += ["--set", "repository_lease_timeout=3"]
        try:
            conn = self.start(failpoints=f"{point}=delay:9000")
            label = self.next_label()
            query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t) "
                        f"PROPERTIES ('max_upload_speed_kbps' = '100')")
            wait_for(conn, "d", {"UPLOADING"}, timeout=60)
            deadline = time.time() + 60
            while int(backup_of(conn, "d")["FilesDone"]) == 0 and time.time() < deadline:
                time.sleep(0.05)  # reused files count as done once the job has chosen them
            victim = first_keys[0]  # stored by the first backup, reused by this one
            os.remove(os.path.join(self.location, victim))
            row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
            check(row["SnapshotName"] == label and row["State"] == "CANCELLED" and victim in row["Status"]
                  and "its lease lapsed while its refreshes failed or came late" in row["Status"],
                  f"{point}: the backup whose lease lapsed is CANCELLED naming the removed object: "
                  f"{row['State']} {row['Status']}")
            snapshots = query(conn, "SHOW SNAPSHOT ON repo")
            check(all(r[0] != label or r[2] != "OK" for r in snapshots), f"{point}: {label} is not listed OK")
            self.check_clean(conn, f"{point}: a lapsed lease")
            self.server.stop()
        finally:
            self.server.extra = self.server.extra[:-2]
        self.exercised.add(point)

    # Restores --------------------------------------------------------------------------------

    def change_t(self):
        """Rows the snapshot does not have, loaded before the point is armed (a load journals
        too): returns t's fingerprint with them."""
        conn = self.start()
        insert_rows(conn, "t", 900000 + self.labels * 1000, 30, 100, seed=self.labels)
        self.labels += 1
        before = fingerprint(conn, "d.t")
        self.server.stop()
        return before

    def overwrite_restore_crash(self, point, hit=1, pause=None, cancel=False):
        """RESTORE over `t` (changed since the snapshot) killed at `point`: after the restart
        `t` is either exactly as it was or exactly the snapshot, never a mix."""
        before = self.change_t()
        conn = self.start(failpoints=f"{point}=crash@{hit}", pause_restore=pause)
        try:
            query(conn, f"RESTORE SNAPSHOT {self.base} FROM repo DATABASE d ON (TABLE t)")
        except Exception:  # a point on the submission path: the server dies before it answers
            pass
        if cancel:
            wait_restore(conn, "d", {pause}, timeout=60)
            try:
                query(conn, "CANCEL RESTORE FROM d")
            except Exception:
                pass
        self.expect_killed(point)
        conn = self.start()
        row = wait_restore(conn, "d", timeout=120)
        now = fingerprint(conn, "d.t")
        if cancel:
            check(row["State"] == "CANCELLED" and now == before,
                  f"{point}: a cancelled restore leaves t exactly as it was: {row['State']} {now} {before}")
        else:
            check(row["State"] == "FINISHED" and now == self.source,
                  f"{point}: after the restart the restore finishes and t equals the snapshot: "
                  f"{row['State']} {row['Status']} {now}")
        self.check_clean(conn, point)
        self.server.stop()

    def moved_file_lost(self):
        """RESTORE over `t` killed after COMMIT moved its tablet directories into place and before
        it published them; one of their files is lost meanwhile. After the restart the restore
        publishes nothing: CANCELLED naming the file, and `t` exactly as it was."""
        point = "restore.commit.before_publish"
        before = self.change_t()
        tablets_before = set(tablet_dirs(self.data_dir))
        conn = self.start(failpoints=f"{point}=crash")
        query(conn, f"RESTORE SNAPSHOT {self.base} FROM repo DATABASE d ON (TABLE t)")
        self.expect_killed(point)
        moved = {t: files for t, files in tablet_dirs(self.data_dir).items()
                 if t not in tablets_before and files}
        check(moved != {}, f"{point}: the crashed COMMIT moved tablet directories into place")
        tablet = sorted(moved)[0]
        lost = os.path.join(self.data_dir, "storage", "data", str(tablet), moved[tablet][0])
        os.remove(lost)
        conn = self.start()
        row = wait_restore(conn, "d", timeout=120)
        check(row["State"] == "CANCELLED" and f"find restored file {lost}" in row["Status"],
              f"a lost file: the resumed COMMIT names it and publishes nothing: {row['State']} {row['Status']}")
        check(fingerprint(conn, "d.t") == before, "a lost file: t is exactly as it was")
        self.check_clean(conn, "a lost file")
        self.server.stop()

    def overwrite_restore_fails(self, point, action):
        before = self.change_t()
        conn = self.start(failpoints=f"{point}={action}")
        query(conn, f"RESTORE SNAPSHOT {self.base} FROM repo DATABASE d ON (TABLE t)")
        row = wait_restore(conn, "d", timeout=120)
        check(row["State"] == "CANCELLED" and f"failpoint {point}" in row["Status"],
              f"{point}={action}: the restore is cancelled naming the point: {row['State']} {row['Status']}")
        check(fingerprint(conn, "d.t") == before, f"{point}={action}: t is exactly as it was")
        self.exercised.add(point)
        self.check_clean(conn, f"{point}={action}")
        query(conn, f"RESTORE SNAPSHOT {self.base} FROM repo DATABASE d ON (TABLE t)")
        row = wait_restore(conn, "d", timeout=120)
        check(row["State"] == "FINISHED" and fingerprint(conn, "d.t") == self.source,
              f"{point}={action}: the next restore finishes: {row['Status']}")
        self.server.stop()

    def publish_outcome_unknown(self):
        """RESTORE over `t` whose publish record is written but whose fdatasync fails (EIO): the
        catalog journal stops taking changes, and whether the restore was published is known only
        when a restart replays the journal. The job stays in COMMIT with its files in place (a
        cancel is refused: it would remove what a replay publishes); `t` still reads as it was.
        The record was in the page cache, so after the restart the restore finishes and `t`
        equals the snapshot."""
        point = "journal.meta.fdatasync_fails"
        before = self.change_t()
        conn = self.start(failpoints=f"{point}=error@2")  # 1: the restore's id lease, 2: its publish
        query(conn, f"RESTORE SNAPSHOT {self.base} FROM repo DATABASE d ON (TABLE t)")
        deadline = time.time() + 60
        row = restore_of(conn, "d")
        while "known after a restart" not in row["Status"] and time.time() < deadline:
            time.sleep(0.05)
            row = restore_of(conn, "d")
        check(row["State"] == "COMMIT" and "fdatasync" in row["Status"] and "known after a restart" in row["Status"],
              f"{point}: the restore stays in COMMIT and says a restart decides: {row['State']} {row['Status']}")
        err = error_of(conn, "CANCEL RESTORE FROM d")
        check(err is not None and "can not be cancelled" in err[1], f"{point}: it cannot be cancelled: {err}")
        check(fingerprint(conn, "d.t") == before, f"{point}: t reads as it was until the restart")
        self.exercised.add(point)
        self.server.stop()
        conn = self.start()
        row = wait_restore(conn, "d", timeout=120)
        check(row["State"] == "FINISHED" and fingerprint(conn, "d.t") == self.source,
              f"{point}: after the restart the published restore finishes, t equals the snapshot: "
              f"{row['State']} {row['Status']}")
        self.check_clean(conn, point)
        self.server.stop()

    # The catalog journal ---------------------------------------------------------------------

    def load_outcome_unknown(self):
        """An INSERT whose publish record is written but whose fdatasync fails: the statement
        fails saying a restart decides, and the load's files stay for the record a restart
        replays (removed, they left the replayed rowset without its segment)."""
        point = "journal.meta.fdatasync_fails"
        conn = self.start(failpoints=f"{point}=error@2")  # 1: the load's id lease, 2: its publish
        before = query(conn, "SELECT COUNT(*) FROM t")[0][0]
        err = error_of(conn, "INSERT INTO t VALUES (1999999, 'written as the disk failed')")
        check(err is not None and "whether the load was published is known after a restart" in err[1],
              f"{point}: the INSERT fails and says a restart decides: {err}")
        self.server.stop()
        conn = self.start()
        rows = query(conn, "SELECT v FROM t WHERE k = 1999999")
        check(query(conn, "SELECT COUNT(*) FROM t")[0][0] == before + 1
              and [tuple(r) for r in rows] == [("written as the disk failed",)],
              f"{point}: the replayed record's row reads back from its kept segment: {rows}")
        self.check_clean(conn, f"{point} (a load)")
        self.server.stop()

    def stream_load_outcome_unknown(self):
        """A Stream Load whose publish record is written but whose fdatasync fails answers
        Status Unknown, not Fail (a client told Fail sends the rows again; they may be in). The
        same load sent again with its label after the restart answers Label Already Exists,
        and its rows are there once."""
        point = "journal.meta.fdatasync_fails"
        rows_path = os.path.join(self.work, "unknown.csv")
        with open(rows_path, "w") as f:
            f.write("".join(f"{1800000 + i}\tsent as the disk failed\n" for i in range(3)))
        conn = self.start(failpoints=f"{point}=error@2")  # 1: the load's id lease, 2: its publish
        before = query(conn, "SELECT COUNT(*) FROM t")[0][0]
        body = stream_load(self.server, "d", "t", rows_path, label="fsync_failed_load", must_succeed=False)
        check(body["Status"] == "Unknown" and "known after a restart" in body["Message"]
              and "send it again with label fsync_failed_load after the restart" in body["Message"],
              f"{point}: the Stream Load says a restart decides, with its label: {body}")
        self.server.stop()
        conn = self.start()
        again = stream_load(self.server, "d", "t", rows_path, label="fsync_failed_load", must_succeed=False)
        check(again["Status"] == "Label Already Exists" and again["ExistingJobStatus"] == "FINISHED",
              f"{point}: sent again after the restart, the load answers that it went in: {again}")
        count = query(conn, "SELECT COUNT(*) FROM t WHERE k >= 1800000 AND k < 1800003")[0][0]
        check(query(conn, "SELECT COUNT(*) FROM t")[0][0] == before + 3 and count == 3,
              f"{point}: the load's rows are there once: {count} of 3")
        self.check_clean(conn, f"{point} (a Stream Load)")
        self.server.stop()

    def ddl_crash(self):
        """A CREATE TABLE killed between its journal write and the fsync: after the restart the
        catalog is whole (the table is there or not, and DDL goes on)."""
        point = "journal.meta.before_fsync"
        conn = self.start(failpoints=f"{point}=crash")
        try:
            query(conn, "CREATE TABLE crashed (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        except Exception:
            pass
        self.expect_killed(point)
        conn = self.start()
        if "crashed" in table_names(conn, "d"):
            query(conn, "DROP TABLE crashed")
        query(conn, "CREATE TABLE crashed (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        query(conn, "INSERT INTO crashed VALUES (1)")
        check(query(conn, "SELECT COUNT(*) FROM crashed")[0][0] == 1, f"{point}: DDL and loads go on")
        query(conn, "DROP TABLE crashed")
        self.server.stop()

    def run(self):
        self.server.start()
        conn = connect(self.server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE t (k INT, v VARCHAR(256)) DUPLICATE KEY(k) "
                    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (5000), "
                    "PARTITION p2 VALUES LESS THAN (2000000)) DISTRIBUTED BY HASH(k) BUCKETS 3")
        for batch in range(4):
            insert_rows(conn, "t", batch * 2000, 200, 200, seed=batch)
        self.source = fingerprint(conn, "d.t")
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{self.location}"')
        self.base = "base"
        query(conn, f"BACKUP DATABASE d SNAPSHOT {self.base} TO repo ON (TABLE t)")
        check(wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)["State"] == "FINISHED",
              "the base backup finishes")
        self.server.stop()

        # Each crash backup uploads anew: the repository must not hold the objects yet, so the
        # points on the upload path are reached. A changed table gives new files each time.
        def changed():
            conn = self.start()
            insert_rows(conn, "t", 100000 + self.labels * 1000, 50, 200, seed=100 + self.labels)
            self.source = fingerprint(conn, "d.t")
            self.server.stop()

        for point, hit in (("backup.snapshot.after_links", 1), ("backup.upload.after_put", 1),
                           ("backup.save_meta.after_meta_put", 1), ("backup.save_meta.after_puts", 1),
                           ("backup.upload_info.after_put", 1),
                           ("journal.jobs.before_fsync", 3), ("repository.put.before_rename", 2)):
            changed()
            self.backup_crash(point, hit)
        for point, action in (("backup.snapshot.after_links", "error"), ("backup.save_meta.after_puts", "throw"),
                              ("backup.upload_info.after_put", "error")):
            changed()
            self.backup_fails(point, action)
        changed()
        self.backup_cancel_crash()
        changed()
        self.backup_cancel_crash("UPLOAD_INFO")
        self.backup_cancel_crash("UPLOAD_INFO", stores=False)  # unchanged: every file reused
        changed()
        self.backup_cancel_then_backup_at_once()
        for state in ("SAVE_META", "UPLOAD_INFO"):
            changed()
            self.backup_resumed_over_removed_objects(state)
        changed()
        self.backup_lease_lapsed_live()

        # Restores overwrite `t` with the base snapshot, whose content is recorded here.
        conn = self.start()
        query(conn, "DROP TABLE t")
        query(conn, f"RESTORE SNAPSHOT {self.base} FROM repo DATABASE d ON (TABLE t)")
        check(wait_restore(conn, "d", timeout=120)["State"] == "FINISHED", "the base snapshot restores")
        self.source = fingerprint(conn, "d.t")
        self.server.stop()
        self.overwrite_restore_crash("restore.download.after_file", hit=2)
        self.overwrite_restore_crash("restore.commit.before_publish")
        self.moved_file_lost()
        self.overwrite_restore_crash("restore.commit.after_publish")
        self.overwrite_restore_crash("journal.meta.before_fsync", hit=2)
        self.overwrite_restore_crash("restore.cancel.before_cleanup", pause="DOWNLOADING", cancel=True)
        self.overwrite_restore_fails("restore.commit.before_publish", "error")
        self.overwrite_restore_fails("restore.commit.before_publish", "throw")
        self.publish_outcome_unknown()
        self.load_outcome_unknown()
        self.stream_load_outcome_unknown()
        self.ddl_crash()

        # DROP SNAPSHOT's points, and the delay points that make a backup meet a drop, are
        # exercised by the test of its crash-safety and leases.
        drop_test = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "drop_snapshot.py")).read()
        for point in ("drop.after_info", "drop.after_metadata", "drop.repack.after_manifest", "drop.delete.midway",
                      "backup.sweep.before", "drop.delete.before"):
            if f'"{point}"' in drop_test or f"{point}=" in drop_test:
                self.exercised.add(point)
        declared = set(declared_points())
        check(len(declared) >= 16, f"the points are read from io/failpoint.hh: {sorted(declared)}")
        check(declared == self.exercised, f"every declared point is exercised: missing "
              f"{sorted(declared - self.exercised)}, unknown {sorted(self.exercised - declared)}")

        conn = self.start()
        self.server.stop()
        for spec, refusal in (("backup.no_such_point=crash", "no failpoint is named 'backup.no_such_point'"),
                              ("backup.sweep.before=crash", "'backup.sweep.before' can only delay"),
                              ("backup.upload_info.after_put=delay:5",
                               "'backup.upload_info.after_put' is not a delay point"),
                              ("journal.meta.fdatasync_fails=crash",
                               "'journal.meta.fdatasync_fails' can only fail with error"),
                              ("backup.sweep.before=delay:soon", "'backup.sweep.before=delay:soon' has a bad delay"),
                              ("drop.delete.before=delay:0", "'drop.delete.before=delay:0' has a bad delay"),
                              ("drop.delete.before=delay:99999999999999",
                               "'drop.delete.before=delay:99999999999999' has a bad delay")):
            saved = os.environ.copy()
            os.environ["TV_FAILPOINTS"] = spec
            try:
                self.server.start()
                started = True
            except RuntimeError as e:
                started = False
                check(refusal in str(e), f"{spec} is refused at start-up: {refusal}")
            finally:
                os.environ.clear()
                os.environ.update(saved)
            if started:
                self.server.stop()
            check(not started, f"the server refuses to start with {spec}")
        check(self.server.sanitizer_reports() == [], "no sanitizer reports")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-failpoints-")
    harness = Harness(binary, work)
    try:
        harness.run()
    finally:
        harness.server.stop()
    finish(work, harness.log_path)


if __name__ == "__main__":
    main()
