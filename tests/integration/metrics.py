#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# GET /metrics on a real server: BACKUP and RESTORE to a local repository and a BACKUP to the
# real S3 server of the `rgw` fixture, a cancelled backup, and a database whose name needs
# escaping; each job's numbers equal SHOW BACKUP / SHOW RESTORE's, S3 requests are counted,
# promtool accepts the page, and a real Prometheus server scrapes it (with Basic auth once
# metrics_require_auth is on), sees the target up and reads the escaped names back exactly.
import base64
import json
import os
import random
import re
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from rgw_test_util import Aws, read_rgw_env, repository_properties  # noqa: E402
from backup_test_util import backup_of, check, connect, finish, query, stream_load, wait_for  # noqa: E402
from restore_test_util import wait_restore  # noqa: E402

WEIRD_DB = 'we"ird\\db'  # a quote and a backslash: both must be escaped in label values
WEIRD_SQL = f"`{WEIRD_DB}`"


def scrape(server, auth=None):
    """(status, body) of GET /metrics."""
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}/metrics")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Content-Type")


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def samples(text):
    """Every sample as (name, {label: value}, float)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if m is None:
            raise RuntimeError(f"unparsable line: {line!r}")
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def value(text, name, **labels):
    """The one sample of `name` whose labels include `labels`; None when there is none."""
    found = [v for n, l, v in samples(text) if n == name and all(l.get(k) == w for k, w in labels.items())]
    if len(found) > 1:
        raise RuntimeError(f"{name} {labels}: {len(found)} samples")
    return found[0] if found else None


def total(text, name, **labels):
    return sum(v for n, l, v in samples(text) if n == name and all(l.get(k) == w for k, w in labels.items()))


def write_rows(path, rows, width, seed):
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    with open(path, "w") as f:
        for i in range(rows):
            f.write(f"{i}\t{''.join(rng.choices(alphabet, k=width))}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_job(text, job, kind, db, label, state):
    """A finished job's metrics against its SHOW row."""
    ids = {"job_id": str(job["JobId"]), "type": kind, "db": db, "label": label}
    check(value(text, "tabletvault_job_state", state=state, **ids) == 1, f"{kind} {label} of {db!r} shows {state}")
    done = value(text, "tabletvault_job_done_bytes", **ids)
    planned = value(text, "tabletvault_job_planned_bytes", **ids)
    check(planned == int(job["BytesTotal"]) and planned > 0 and done == planned,
          f"{kind} {label}: bytes done {done} == planned {planned} == SHOW's BytesTotal {job['BytesTotal']}")
    files_done = value(text, "tabletvault_job_done_files", **ids)
    files_planned = value(text, "tabletvault_job_planned_files", **ids)
    check(files_planned == int(job["FilesTotal"]) and files_done == files_planned,
          f"{kind} {label}: files done {files_done} == planned {files_planned}")


def run_promtool(work, text, what):
    path = os.path.join(work, "metrics.txt")
    with open(path, "w") as f:
        f.write(text)
    out = subprocess.run(["promtool", "check", "metrics"], stdin=open(path), capture_output=True, text=True)
    check(out.returncode == 0, f"promtool check metrics accepts {what}: {out.stdout}{out.stderr}".strip())


def prometheus_query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["data"]["result"]


def run_prometheus(work, server, auth):
    """Scrapes the server with a real Prometheus; yields (`up`, the labels of the weird
    database's last successful backup series, the last S3 request count) as it saw them."""
    port = free_port()
    user, password = auth.split(":", 1)
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: tabletvault
    basic_auth:
      username: {user}
      password: {password}
    static_configs:
      - targets: ['127.0.0.1:{server.http_port}']
""")
    log = open(os.path.join(work, "prometheus.log"), "w")
    prometheus = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
         f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
    up, weird, s3 = None, None, None
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                result = prometheus_query(port, 'up{job="tabletvault"}')
                if result:
                    up = result[0]["value"][1]
                    if up == "1":
                        weird = prometheus_query(port, "tabletvault_last_successful_backup_timestamp_seconds")
                        s3 = prometheus_query(port, 'sum(tabletvault_s3_requests_total{op="PutObject",code="200"})')
                        break
            except (urllib.error.URLError, ConnectionError, KeyError):
                pass
            time.sleep(0.5)
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=30)
    return up, weird, s3


def main():
    binary = sys.argv[1]
    for tool in ("promtool", "prometheus"):
        if shutil.which(tool) is None:
            print(f"skip: {tool} is not installed (Debian package prometheus; scripts/setup installs it)")
            sys.exit(77)
    rgw = read_rgw_env()
    aws = Aws(rgw)
    bucket = "tv-metrics-" + uuid.uuid4().hex[:12]
    aws.run("s3api", "create-bucket", "--bucket", bucket)
    work = tempfile.mkdtemp(prefix="tv-metrics-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, ["--set", "backup_pack_threshold=1M"])
    try:
        server.start()
        status, text, content_type = scrape(server)
        check(status == 200 and content_type == "text/plain; version=0.0.4; charset=utf-8",
              f"GET /metrics answers 200 in the text format, open by default: {status} {content_type}")
        check(value(text, "tabletvault_build_info") == 1 and value(text, "process_start_time_seconds") > 0,
              "build info and the process start time are there from the start")
        run_promtool(work, text, "the page of an idle server")

        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, f"CREATE DATABASE {WEIRD_SQL}")
        query(conn, "CREATE TABLE d.t (k INT, v VARCHAR(128)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, f"CREATE TABLE {WEIRD_SQL}.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        query(conn, f"INSERT INTO {WEIRD_SQL}.t VALUES (1), (2), (3)")
        csv = os.path.join(work, "rows.csv")
        write_rows(csv, 30000, 100, 7)
        stream_load(server, "d", "t", csv)
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        query(conn, f'CREATE REPOSITORY s3r WITH BROKER ON LOCATION "s3://{bucket}/m" '
                    f'PROPERTIES ({repository_properties(rgw)})')

        # BACKUP to the local repository: done == planned, the upload counter moved.
        started = time.time()
        query(conn, "BACKUP DATABASE d SNAPSHOT local1 TO repo")
        backup = wait_for(conn, "d", {"FINISHED", "CANCELLED"})
        check(backup["State"] == "FINISHED", f"the local backup finished: {backup['Status']}")
        _, text, _ = scrape(server)
        check_job(text, backup, "backup", "d", "local1", "FINISHED")
        uploaded = value(text, "tabletvault_transfer_bytes_total", direction="upload")
        check(uploaded >= int(backup["BytesTotal"]),
              f"tabletvault_transfer_bytes_total{{direction=upload}} {uploaded} counts the backup's bytes")
        last = value(text, "tabletvault_last_successful_backup_timestamp_seconds", db="d")
        check(last is not None and started - 1 <= last <= time.time() + 1,
              f"the last successful backup of d is this one: {last}")
        for journal in ("catalog", "jobs"):
            count = value(text, "tabletvault_journal_fsync_duration_seconds_count", journal=journal)
            inf = value(text, "tabletvault_journal_fsync_duration_seconds_bucket", journal=journal, le="+Inf")
            check(count > 0 and inf == count, f"{journal} journal fsyncs counted: {count} (+Inf bucket {inf})")
        check(value(text, "tabletvault_mysql_connections") >= 1 and value(text, "tabletvault_http_connections") >= 1,
              "open MySQL and HTTP connections are counted")

        # RESTORE from it under a new name: this restore is now d's last job, and the backup's
        # success is still known.
        query(conn, "RESTORE SNAPSHOT d.local1 FROM repo ON (t AS t_copy)")
        restore = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=120)
        check(restore["State"] == "FINISHED", f"the restore finished: {restore['Status']}")
        _, text, _ = scrape(server)
        check_job(text, restore, "restore", "d", "local1", "FINISHED")
        downloaded = value(text, "tabletvault_transfer_bytes_total", direction="download")
        check(downloaded >= int(restore["BytesTotal"]),
              f"tabletvault_transfer_bytes_total{{direction=download}} {downloaded} counts the restore's bytes")
        check(value(text, "tabletvault_job_state", type="backup", db="d") is None,
              "the backup job is no longer shown once the restore replaced it as d's last job (as SHOW BACKUP)")
        check(value(text, "tabletvault_last_successful_backup_timestamp_seconds", db="d") == last,
              "the last successful backup time outlives its job")

        # BACKUP to S3: requests counted by operation and status, with their latencies.
        query(conn, f"BACKUP DATABASE {WEIRD_SQL} SNAPSHOT s3snap TO s3r")
        weird_backup = wait_for(conn, WEIRD_SQL, {"FINISHED", "CANCELLED"})
        check(weird_backup["State"] == "FINISHED", f"the S3 backup finished: {weird_backup['Status']}")
        _, text, _ = scrape(server)
        check_job(text, weird_backup, "backup", WEIRD_DB, "s3snap", "FINISHED")
        puts = total(text, "tabletvault_s3_requests_total", op="PutObject", code="200")
        check(puts > 0, f"S3 PutObject requests answered 200 are counted: {puts}")
        put_count = value(text, "tabletvault_s3_request_duration_seconds_count", op="PutObject")
        check(put_count == total(text, "tabletvault_s3_requests_total", op="PutObject"),
              f"every PutObject has its latency observed: {put_count}")
        buckets = [v for n, l, v in samples(text)
                   if n == "tabletvault_s3_request_duration_seconds_bucket" and l.get("op") == "PutObject"]
        check(buckets == sorted(buckets) and buckets[-1] == put_count, "the latency buckets are cumulative")
        check(value(text, "tabletvault_s3_request_duration_seconds_sum", op="PutObject") > 0, "latency sum > 0")

        # A backup that fails (cancelled): its state shows; its rate limit showed while it ran.
        query(conn, "BACKUP DATABASE d SNAPSHOT slow TO s3r PROPERTIES ('max_upload_speed_kbps' = '256')")
        running = wait_for(conn, "d", {"UPLOADING", "FINISHED", "CANCELLED"})
        _, text, _ = scrape(server)
        ids = {"job_id": str(running["JobId"]), "type": "backup", "db": "d", "label": "slow"}
        check(value(text, "tabletvault_job_rate_limit_bytes_per_second", **ids) == 256 * 1024,
              "the running job's rate limit is its max_upload_speed_kbps in bytes per second")
        query(conn, "CANCEL BACKUP FROM d")
        cancelled = wait_for(conn, "d", {"CANCELLED", "FINISHED"})
        check(cancelled["State"] == "CANCELLED", f"the slow backup was cancelled: {cancelled['Status']}")
        _, text, _ = scrape(server)
        check(value(text, "tabletvault_job_state", state="CANCELLED", **ids) == 1,
              "the cancelled backup shows state CANCELLED (what the 'backup failed' alert looks for)")
        check(value(text, "tabletvault_last_successful_backup_timestamp_seconds", db="d") == last,
              "a failed backup leaves the last successful backup time as it was")
        run_promtool(work, text, "the page after local, S3 and cancelled jobs")

        # Protected: 401 without credentials; a plain user may read it.
        query(conn, "CREATE USER monitor IDENTIFIED BY 'watch'")
        query(conn, "ADMIN SET FRONTEND CONFIG ('metrics_require_auth' = 'true')")
        status, body, _ = scrape(server)
        check(status == 401 and "tabletvault_" not in body, f"with metrics_require_auth, no credentials: {status}")
        status, body, _ = scrape(server, "monitor:wrong")
        check(status == 401, f"a wrong password: {status}")
        status, body, _ = scrape(server, "monitor:watch")
        check(status == 200 and "tabletvault_build_info" in body, f"a user without any grant may read it: {status}")

        # A real Prometheus scrapes it with Basic auth and reads the escaped name back exactly.
        up, last_backups, s3 = run_prometheus(work, server, "monitor:watch")
        check(up == "1", f"Prometheus sees the target up: up = {up}")
        dbs = sorted(r["metric"].get("db", "") for r in last_backups or [])
        check(dbs == sorted(["d", WEIRD_DB]), f"Prometheus read the database names back exactly: {dbs}")
        check(s3 is not None and len(s3) == 1 and float(s3[0]["value"][1]) >= puts,
              f"Prometheus has the S3 request counts: {s3}")
        reports = server.sanitizer_reports()
        check(reports == [], f"no sanitizer reports: {reports[:3]}")
    finally:
        server.stop()
        aws.run("s3", "rb", f"s3://{bucket}", "--force", check_rc=False)
    return finish(work, log_path)


if __name__ == "__main__":
    sys.exit(main())
