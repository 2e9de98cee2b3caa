#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Who may use the HTTP port, against a real server with a root password: every endpoint that
# changes state (POST /api/update_config, Stream Load) answers 401 with a Basic challenge to no
# credentials, to a wrong password, to an unknown user and to a user whose host does not match,
# 403 to a known user with too few privileges (update_config needs root or db_admin, Stream Load
# INSERT on the table), and none of them changes anything; the right users go through;
# /api/health stays open; metrics_require_auth is a run-time key that only an admin can change;
# no password reaches the log.
import base64
import http.client
import json
import os
import shutil
import sys
import tempfile

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from tap import FAILURES, check  # noqa: E402

ROOT_PASSWORD = "r00t-Pw"
WRONG_PASSWORD = "Wr0ng-Pw-7731"


def call(port, method, target, user=None, body=None, headers=None):
    """(status, headers as a dict with lower-case names, body as text) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    all_headers = dict(headers or {})
    if user is not None:
        all_headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    conn.request(method, target, body=body, headers=all_headers)
    response = conn.getresponse()
    answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode())
    conn.close()
    return answer


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def config_value(conn, key):
    rows = query(conn, f"ADMIN SHOW FRONTEND CONFIG LIKE '{key}'")
    return rows[0][2] if rows else None


def refused(answer, status, message, what):
    code, headers, body = answer
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    ok = code == status and message in json.dumps(parsed)
    if status == 401:
        ok = ok and headers.get("www-authenticate") == 'Basic realm="tabletvault"'
    check(ok, f"{what}: {status} naming '{message}': {code} {headers.get('www-authenticate')} {body[:200]}")


def update_config(server, conn):
    port = server.http_port
    target = "/api/update_config?max_upload_speed_kbps=7"
    unauthorized = [
        (None, "no valid Basic authorization", "no credentials"),
        ("root:" + WRONG_PASSWORD, "Access denied for user 'root'@'127.0.0.1' (using password: YES)",
         "a wrong password"),
        ("root:", "Access denied for user 'root'@'127.0.0.1' (using password: NO)", "root without its password"),
        ("nobody:x", "Access denied for user 'nobody'@'127.0.0.1'", "an unknown user"),
        ("faraway:pw", "Access denied for user 'faraway'@'127.0.0.1'", "a user of another host"),
    ]
    for user, message, what in unauthorized:
        refused(call(port, "POST", target, user), 401, message, f"update_config, {what}")
    refused(call(port, "POST", target, None, headers={"Authorization": "Bearer abc"}), 401,
            "no valid Basic authorization", "update_config, a non-Basic scheme")
    refused(call(port, "POST", target, "loader:pw"), 403,
            "Access denied for user 'loader'@'%': POST /api/update_config needs root or the db_admin role",
            "update_config, a user with INSERT but no db_admin")
    refused(call(port, "POST", target, "plain:pw"), 403, "needs root or the db_admin role",
            "update_config, a user with no grant at all")
    check(config_value(conn, "max_upload_speed_kbps") == "0", "no refused update_config changed the key")
    check(call(port, "POST", target, "admin:pw")[0] == 200 and config_value(conn, "max_upload_speed_kbps") == "7",
          "a db_admin changes it")
    answer = call(port, "POST", "/api/update_config?max_upload_speed_kbps=0", "root:" + ROOT_PASSWORD)
    check(answer[0] == 200 and json.loads(answer[2]) == {"status": "OK", "msg": ""} and
          config_value(conn, "max_upload_speed_kbps") == "0", f"and root: {answer}")
    # The metrics key is one more run-time key: the same rule guards it.
    refused(call(port, "POST", "/api/update_config?metrics_require_auth=true", "plain:pw"), 403,
            "needs root or the db_admin role", "metrics_require_auth, a user without db_admin")
    check(config_value(conn, "metrics_require_auth") == "false", "metrics_require_auth is false by default")
    check(call(port, "POST", "/api/update_config?metrics_require_auth=true", "admin:pw")[0] == 200 and
          config_value(conn, "metrics_require_auth") == "true", "a db_admin turns metrics_require_auth on")
    check(call(port, "POST", "/api/update_config?metrics_require_auth=yes", "admin:pw")[0] == 400,
          "metrics_require_auth takes true or false only")
    # A wrong method is refused before any credentials are looked at, and changes nothing.
    check(call(port, "GET", target, None)[0] == 405, "GET update_config is 405")


def stream_load(server, conn):
    port = server.http_port
    target = "/api/sec/t/_stream_load"

    def load(user, label):
        return call(port, "PUT", target, user, body=b"1,1\n2,2\n",
                    headers={"label": label, "column_separator": ","})

    for user, what in ((None, "no credentials"), ("loader:" + WRONG_PASSWORD, "a wrong password"),
                       ("nobody:x", "an unknown user"), ("faraway:pw", "a user of another host")):
        code, headers, body = load(user, "refused")
        check(code == 401 and headers.get("www-authenticate") == 'Basic realm="tabletvault"' and
              json.loads(body)["Status"] == "Fail", f"Stream Load, {what}: 401 {code} {body[:200]}")
    code, _, body = load("plain:pw", "refused")
    check(code == 403 and "INSERT privilege(s) on TABLE t" in json.loads(body)["Message"],
          f"Stream Load, a user without INSERT: 403 {code} {body[:200]}")
    check(query(conn, "SELECT COUNT(*) FROM sec.t")[0][0] == 0, "no refused Stream Load loaded a row")
    code, _, body = load("loader:pw", "granted")
    check(code == 200 and json.loads(body)["NumberLoadedRows"] == 2, f"a user with INSERT loads: {code} {body[:200]}")
    code, _, body = load("admin:pw", "by-admin")  # db_admin reads and loads every table
    check(code == 200 and json.loads(body)["Status"] == "Success", f"a db_admin loads: {code} {body[:200]}")
    check(query(conn, "SELECT COUNT(*) FROM sec.t")[0][0] == 4, "both loads are there")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-http-auth-")
    log = os.path.join(work, "server.log")
    server = TvServer(binary, os.path.join(work, "data"), log, ["--set", f"root_password={ROOT_PASSWORD}"])
    try:
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", password=ROOT_PASSWORD,
                               autocommit=True)
        query(conn, "CREATE DATABASE sec")
        query(conn, "CREATE TABLE sec.t (id INT NOT NULL, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
        query(conn, "CREATE USER 'admin'@'%' IDENTIFIED BY 'pw'")
        query(conn, "GRANT db_admin TO 'admin'@'%'")
        query(conn, "CREATE USER 'loader'@'%' IDENTIFIED BY 'pw'")
        query(conn, "GRANT INSERT ON sec.t TO 'loader'@'%'")
        query(conn, "CREATE USER 'plain'@'%' IDENTIFIED BY 'pw'")
        query(conn, "CREATE USER 'faraway'@'10.9.8.7' IDENTIFIED BY 'pw'")
        query(conn, "GRANT db_admin TO 'faraway'@'10.9.8.7'")

        code, headers, body = call(server.http_port, "GET", "/api/health")
        check(code == 200 and json.loads(body)["status"] == "OK" and "www-authenticate" not in headers,
              f"/api/health needs no credentials: {code} {body}")
        update_config(server, conn)
        stream_load(server, conn)

        text = open(log, errors="replace").read()
        check(WRONG_PASSWORD not in text and ROOT_PASSWORD not in text, "no password reaches the log")
        reports = server.sanitizer_reports()
        check(not reports, "no sanitizer reports: " + "; ".join(reports[:3]))
        check(server.stop() == 0, "clean shutdown")
    finally:
        if server.process is not None:
            server.stop(timeout=10)
        if FAILURES:
            print(open(log, errors="replace").read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
