# SPDX-License-Identifier: Apache-2.0
# What the RESTORE integration tests need beyond backup_test_util: SHOW RESTORE as dicts, waiting
# on a restore job, the content of tables and objects (checksums, ordered rows, definitions,
# fingerprints), damaging a repository's objects in a way that can be undone, racing loads,
# restarts, and what a restore may leave behind on disk (staging directories, tablet
# directories no table owns, tablet files the catalog does not list).
import json
import os
import random
import shutil
import string
import subprocess
import time

from backup_test_util import check, columns_of, connect, query

TABLES = ["dup", "city", "agg", "pk"]

SHOW_RESTORE_COLUMNS = [
    "JobId", "Label", "Timestamp", "DbName", "State", "AllowLoad", "ReplicationNum", "RestoreObjs", "CreateTime",
    "MetaPreparedTime", "SnapshotFinishedTime", "DownloadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress",
    "TaskErrMsg", "Status", "Timeout",
    "BytesDone", "BytesTotal", "FilesDone", "FilesTotal", "CurrentRate", "RateLimit", "Eta"]

DONE = {"FINISHED", "CANCELLED"}


def restores(conn, db=None):
    """SHOW RESTORE as dicts by column name."""
    names, rows = columns_of(conn, "SHOW RESTORE" + (f" FROM {db}" if db else ""))
    return [dict(zip(names, r)) for r in rows]


def restore_of(conn, db):
    """Row 0 of SHOW RESTORE FROM db ("" : the external-catalog job)."""
    if db == "":
        rows = [r for r in restores(conn) if r["DbName"] == ""]
    else:
        rows = restores(conn, db)
    return rows[0] if rows else None


def wait_restore(conn, db, states=DONE, timeout=60, job_id=None):
    """Waits until the database's last restore (the job `job_id` when given) is in `states`."""
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = restore_of(conn, db)
        if row is not None and row["State"] in states and (job_id is None or row["JobId"] == job_id):
            return row
        time.sleep(0.05)
    raise RuntimeError(f"restore into {db!r} did not reach {states}: {row}")


def run_restore(conn, sql, db, timeout=60):
    """Submits a RESTORE, checks it is row 0 of SHOW RESTORE FROM db at once, and waits for its end.
    Yields (the row seen at submission, the final row)."""
    before = restore_of(conn, db)
    query(conn, sql)
    first = restore_of(conn, db)
    if first is None or (before is not None and first["JobId"] == before["JobId"]):
        raise RuntimeError(f"{sql}: no new SHOW RESTORE row for {db!r}: {first}")
    return first, wait_restore(conn, db, DONE, timeout, first["JobId"])


def checksum(conn, db, table):
    return query(conn, f"CHECKSUM TABLE {db}.{table}")[0][1]


def rows_of(conn, db, table, where=""):
    """Every row, ordered by every column."""
    names, _ = columns_of(conn, f"SELECT * FROM {db}.{table} LIMIT 0")
    order = ", ".join(f"`{n}`" for n in names)
    return query(conn, f"SELECT * FROM {db}.{table} {where} ORDER BY {order}")


def staging_left(data_dir, timeout=10):
    """What stays under <data_dir>/snapshot once jobs ended (their clean-up runs just after)."""
    root = os.path.join(data_dir, "snapshot")
    deadline = time.time() + timeout
    while True:
        left = sorted(os.listdir(root)) if os.path.isdir(root) else []
        if not left or time.time() > deadline:
            return left
        time.sleep(0.05)


class Damage:
    """One object of a repository damaged, then put back as it was: `with Damage(path).flip(at):`."""

    def __init__(self, path):
        self.path = path
        self.saved = path + ".saved"
        self.action = None

    def flip(self, offset):
        self.action = ("flip", offset)
        return self

    def truncate(self):
        self.action = ("truncate", None)
        return self

    def delete(self):
        self.action = ("delete", None)
        return self

    def __enter__(self):
        shutil.copy2(self.path, self.saved)
        kind, offset = self.action
        if kind == "flip":
            with open(self.path, "r+b") as f:
                f.seek(offset)
                byte = f.read(1)
                f.seek(offset)
                f.write(bytes([byte[0] ^ 0xFF]))
        elif kind == "truncate":
            with open(self.path, "r+b") as f:
                f.truncate(os.path.getsize(self.path) // 2)
        else:
            os.remove(self.path)
        return self

    def __exit__(self, *exc):
        os.replace(self.saved, self.path)
        return False


def racing_loads(server, work):
    """Two Stream Loads into pk: the slow one starts first (its rowset has the lower id) and
    publishes last (the higher version), so its row wins: a restore must keep that order."""
    slow, fast = os.path.join(work, "slow.csv"), os.path.join(work, "fast.csv")
    with open(slow, "w") as f:
        f.write("1\teu\t1000\n" + "".join(f"{i}\tus\t{i}\n" for i in range(100, 30000)))
    with open(fast, "w") as f:
        f.write("1\teu\t2000\n")
    url = f"http://127.0.0.1:{server.http_port}/api/d1/pk/_stream_load"
    curl = ["curl", "-sS", "--location-trusted", "-u", "root:"]
    first = subprocess.Popen(curl + ["--limit-rate", "100k", "-T", slow, url], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    second = subprocess.run(curl + ["-T", fast, url], capture_output=True, text=True, timeout=60)
    out, _ = first.communicate(timeout=120)
    return json.loads(second.stdout)["Status"] == "Success" and json.loads(out)["Status"] == "Success"


def content(conn, db, tables=TABLES, names=None):
    """{name: (checksum, rows)} of tables, keyed by `names` (default: the tables' own)."""
    return {n: (checksum(conn, db, t), rows_of(conn, db, t)) for n, t in zip(names or tables, tables)}


def mv_rows(conn, db, names=("mv_agg", "agg_hi")):
    """The rows of a synchronous (agg_hi, an index of agg) and an asynchronous (mv_agg) materialized view."""
    return {n: query(conn, f"SELECT * FROM {db}.{n} ORDER BY 1, 2") for n in names}


def create_text(conn, db, table):
    return query(conn, f"SHOW CREATE TABLE {db}.{table}")[0][1]


def mv_state(conn, db, name):
    rows = [r for r in query(conn, f"SHOW MATERIALIZED VIEWS FROM {db}") if r[0] == name]
    return rows[0][4] if rows else None


def functions_of(conn, db):
    return sorted(r[0] for r in query(conn, f"SHOW FUNCTIONS FROM {db}"))


def catalogs(conn):
    return sorted(r[0] for r in query(conn, "SHOW CATALOGS"))


def view_text(conn, db, name):
    return query(conn, f"SHOW CREATE VIEW {db}.{name}")[0][1]


def stream_load_code(server, db, table):
    """A one-row Stream Load (curl), as (HTTP code, body)."""
    path = os.path.join(server.data_dir, "..", "row.csv")
    with open(path, "w") as f:
        f.write("42\tparis\t42\n" if table == "city" else "42\tstream\n")
    out = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--location-trusted", "-u", "root:",
                          "-T", path, f"http://127.0.0.1:{server.http_port}/api/{db}/{table}/_stream_load"],
                         capture_output=True, text=True, timeout=60)
    body, code = out.stdout.rsplit("\n", 1)
    return int(code), json.loads(body) if body.strip() else {}


def check_finished(row, what):
    ok = row["State"] == "FINISHED" and row["Status"] == "[OK]"
    check(ok, f"{what}: FINISHED [OK] ({row['State']} {row['Status']})")
    return ok


def check_cancelled(row, expected, what):
    check(row["State"] == "CANCELLED" and all(e in row["Status"] for e in expected),
          f"{what}: CANCELLED naming {expected} ({row['State']} {row['Status']})")


def restart(server, pause_in=None):
    server.stop()
    if pause_in:
        os.environ["TV_TEST_PAUSE_RESTORE_IN"] = pause_in
    try:
        server.start()
    finally:
        os.environ.pop("TV_TEST_PAUSE_RESTORE_IN", None)
    return connect(server)


def random_text(rng, width):
    return "".join(rng.choices(string.ascii_letters + string.digits, k=width))


def insert_rows(conn, table, first, count, width, seed):
    """`count` rows (k, v) from key `first`, v random text of `width` characters (it does not
    compress, so the segment files are about count * width bytes)."""
    rng = random.Random(seed)
    query(conn, f"INSERT INTO {table} VALUES " +
          ", ".join(f"({first + i}, '{random_text(rng, width)}')" for i in range(count)))


def fingerprint(conn, table):
    """(CHECKSUM TABLE, row count) of `db.table`."""
    checksum = query(conn, f"CHECKSUM TABLE {table}")[0][1]
    count = query(conn, f"SELECT COUNT(*) FROM {table}")[0][0]
    return checksum, count


def table_names(conn, db):
    return sorted(r[0] for r in query(conn, f"SHOW TABLES FROM {db}"))


def catalog_tablets(conn):
    """Every tablet of every table as {tablet id: FileCount}."""
    tablets = {}
    for (db,) in query(conn, "SHOW DATABASES"):
        if db in ("information_schema", "_statistics_", "sys"):
            continue
        for table in table_names(conn, db):
            names, rows = columns_of(conn, f"SHOW TABLET FROM `{db}`.`{table}`")
            for r in rows:
                row = dict(zip(names, r))
                tablets[int(row["TabletId"])] = int(row["FileCount"])
    return tablets


def tablet_dirs(data_dir):
    """{tablet id: [file names]} of the directories under <data_dir>/storage/data."""
    root = os.path.join(data_dir, "storage", "data")
    found = {}
    for name in os.listdir(root) if os.path.isdir(root) else []:
        path = os.path.join(root, name)
        try:
            found[int(name) if name.isdigit() else name] = sorted(os.listdir(path))
        except (FileNotFoundError, NotADirectoryError):
            pass  # removed while we looked (a dropped tablet's directory)
    return found


def stray_tablet_files(conn, data_dir, timeout=10):
    """What under <data_dir>/storage/data no table owns: directories of unknown tablets, and
    tablets whose directory holds other than the files the catalog lists. Empty when clean.
    Files a DROP or a RESTORE replaced are deleted once the scans that may still read them
    end (a query's pin is let go just after its answer), so this waits up to `timeout`."""
    deadline = time.time() + timeout
    while True:
        known = catalog_tablets(conn)
        stray = []
        for tablet, files in tablet_dirs(data_dir).items():
            if tablet not in known:
                stray.append(f"tablet directory {tablet} ({len(files)} files) belongs to no table")
            elif len(files) != known[tablet]:
                stray.append(f"tablet {tablet} has {len(files)} files, the catalog lists {known[tablet]}")
        if not stray or time.time() > deadline:
            return stray
        time.sleep(0.05)


def snapshot_leftovers(data_dir, timeout=10):
    """Whatever stays under <data_dir>/snapshot (job directories, staging) once jobs ended: a
    job's snapshot is released just after its end is shown, so this waits up to `timeout`."""
    root = os.path.join(data_dir, "snapshot")
    deadline = time.time() + timeout
    while True:
        found = []
        for dirpath, dirnames, filenames in os.walk(root):
            found += [os.path.relpath(os.path.join(dirpath, n), root) for n in dirnames + filenames]
        if not found or time.time() > deadline:
            return sorted(found)
        time.sleep(0.05)


def staged_files(data_dir, job_id):
    """{(tablet, name): (inode, mtime_ns)} of the published files in a restore's staging
    directory (temporary files of a download in flight are left out)."""
    root = os.path.join(data_dir, "snapshot", str(job_id), "staging")
    found = {}
    for tablet in os.listdir(root) if os.path.isdir(root) else []:
        for name in os.listdir(os.path.join(root, tablet)):
            if name.endswith(".dat"):
                st = os.stat(os.path.join(root, tablet, name))
                found[(tablet, name)] = (st.st_ino, st.st_mtime_ns)
    return found
