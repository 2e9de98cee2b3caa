# SPDX-License-Identifier: Apache-2.0
# What the BACKUP integration tests share: checks that print TAP-like lines, SQL helpers over
# pymysql, Stream Load with curl, waiting on SHOW BACKUP, and readers of what a backup wrote
# in a local repository (the manifest, the data objects).
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pymysql

from tap import FAILURES, check  # noqa: F401 (re-exported)

SHOW_BACKUP_COLUMNS = [
    "JobId", "SnapshotName", "DbName", "State", "BackupObjs", "CreateTime", "SnapshotFinishedTime",
    "UploadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress", "TaskErrMsg", "Status", "Timeout",
    "BytesDone", "BytesTotal", "FilesDone", "FilesTotal", "CurrentRate", "RateLimit", "Eta"]


def connect(server, user="root", password=""):
    return pymysql.connect(host="127.0.0.1", port=server.mysql_port, user=user, password=password,
                           autocommit=True)


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def columns_of(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()


def error_of(conn, sql):
    try:
        query(conn, sql)
    except pymysql.MySQLError as e:
        return e.args[0], e.args[1]
    return None


def stream_load(server, db, table, path, label=None, must_succeed=True):
    """Stream Load of `path` with curl; its answer. `must_succeed`: anything but Success raises."""
    label_header = ["-H", f"label: {label}"] if label else []
    out = subprocess.run(["curl", "-sS", "--location-trusted", "-u", "root:"] + label_header + ["-T", path,
                          f"http://127.0.0.1:{server.http_port}/api/{db}/{table}/_stream_load"],
                         capture_output=True, text=True, timeout=300)
    body = json.loads(out.stdout)
    if must_succeed and body.get("Status") != "Success":
        raise RuntimeError(f"stream load into {db}.{table} failed: {body}")
    return body


def backups(conn, db=None):
    """SHOW BACKUP as dicts by column name."""
    names, rows = columns_of(conn, "SHOW BACKUP" + (f" FROM {db}" if db else ""))
    return [dict(zip(names, r)) for r in rows]


def backup_of(conn, db):
    rows = backups(conn, db)
    return rows[0] if rows else None


def wait_for(conn, db, states, timeout=120):
    """Waits until the database's last backup is in one of `states`; yields its row."""
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = backup_of(conn, db)
        if row is not None and row["State"] in states:
            return row
        time.sleep(0.05)
    raise RuntimeError(f"backup of {db} did not reach {states}: {row}")


def released(path, timeout=10):
    """True once `path` (a job's snapshot directory) is gone: a job releases its snapshot just
    after its end is shown."""
    deadline = time.time() + timeout
    while os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)
    return not os.path.exists(path)


def repo_root(location, repo):
    return os.path.join(location, f"__tabletvault_repository_{repo}")


def data_objects(location, repo):
    """Every data object (files and packs) under __data, with its size and mtime. A put in
    flight (a temporary name, which a later backup may sweep) is not an object."""
    root = os.path.join(repo_root(location, repo), "__data")
    found = {}
    for path in glob.glob(os.path.join(root, "**", "*"), recursive=True):
        if os.path.isfile(path) and ".tvtmp-" not in os.path.basename(path):
            st = os.stat(path)
            found[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return found


def snapshot_objects(location, repo, label):
    """The objects of a snapshot label (none when nothing of it was written)."""
    path = os.path.join(repo_root(location, repo), f"__ss_{label}")
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def manifest_of(location, repo, label, partial=False):
    names = [n for n in snapshot_objects(location, repo, label)
             if n.startswith("__manifest_") and (("_partial." in n) == partial)]
    if len(names) != 1:
        raise RuntimeError(f"expected one manifest of {label}, found {names}")
    with open(os.path.join(repo_root(location, repo), f"__ss_{label}", names[0])) as f:
        return json.load(f)


def stored_bytes(location, manifest_file):
    """The bytes a manifest entry points at (a whole object, or a range of a pack)."""
    key = manifest_file["key"]
    with open(os.path.join(location, key), "rb") as f:
        f.seek(manifest_file.get("offset", 0) if manifest_file.get("packed") else 0)
        return f.read(manifest_file["size"])


def segment_files(data_dir):
    """Every segment file under the data dir by (tablet id, name): a load names its files alike in
    every tablet it writes."""
    found = {}
    for path in glob.glob(os.path.join(data_dir, "storage", "data", "*", "*")):
        if os.path.isfile(path):
            tablet = os.path.basename(os.path.dirname(path))
            if tablet.isdigit():
                found[(int(tablet), os.path.basename(path))] = path
    return found


def segment_of(segments, manifest_file):
    """The bytes of the segment file a manifest entry describes (None when it is gone)."""
    path = segments.get((manifest_file["tablet_id"], manifest_file["name"]))
    return open(path, "rb").read() if path else None


def log_shows(log_path, text, timeout=10):
    """Whether the server log holds `text` within `timeout` seconds. For lines written after the
    change a test can see (a sweep logs once its drop is done and visible)."""
    deadline = time.time() + timeout
    while True:
        with open(log_path) as f:
            if text in f.read():
                return True
        if time.time() >= deadline:
            return False
        time.sleep(0.1)


def finish(work, log_path):
    """Ends the test: exit 1 keeping the work dir when a check failed, else 0 without it."""
    if FAILURES:
        print(f"{len(FAILURES)} failure(s); server log in {log_path}; work dir {work}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0)
