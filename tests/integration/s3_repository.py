#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Repository statements end to end against a real S3 server (the Ceph RADOS Gateway of the `rgw`
# CTest fixture, found through TV_RGW_ENV): CREATE REPOSITORY with StarRocks, Doris and Hadoop
# property names pings the bucket and writes __repo_info (read back with the AWS CLI); the
# store's errors reach the user without secrets; READ ONLY reads an existing repository; DROP
# leaves the remote data; repositories survive restart and kill -9; secrets stay out of SHOW,
# the log and any file other users can read.
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import uuid

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from tap import FAILURES, check  # noqa: E402
from rgw_test_util import Aws, read_rgw_env  # noqa: E402


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def error_of(conn, sql):
    try:
        query(conn, sql)
    except pymysql.MySQLError as e:
        return e.args[0], e.args[1]
    return None


def props(**pairs):
    return ", ".join(f'"{k}" = "{v}"' for k, v in pairs.items())


def main():
    binary = sys.argv[1]
    rgw = read_rgw_env()
    aws = Aws(rgw)
    bucket = "tv-sql-" + uuid.uuid4().hex[:12]
    aws.run("s3api", "create-bucket", "--bucket", bucket)
    endpoint, access, secret, region = rgw["endpoint"], rgw["access_key"], rgw["secret_key"], rgw["region"]
    starrocks = props(**{"aws.s3.access_key": access, "aws.s3.secret_key": secret, "aws.s3.endpoint": endpoint,
                         "aws.s3.region": region, "aws.s3.enable_path_style_access": "true"})

    work = tempfile.mkdtemp(prefix="tv-s3-repository-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path)
    try:
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)

        # StarRocks' property names, an endpoint with its scheme.
        query(conn, f'CREATE REPOSITORY sr WITH BROKER ON LOCATION "s3://{bucket}/backups" PROPERTIES ({starrocks})')
        rows = query(conn, "SHOW REPOSITORIES")
        check(len(rows) == 1 and rows[0][1] == "sr" and rows[0][3] == "false"
              and rows[0][4] == f"s3://{bucket}/backups" and rows[0][5] == "-",
              f"SHOW REPOSITORIES lists the S3 repository: {rows}")
        info = json.loads(aws.read(bucket, "backups/__tabletvault_repository_sr/__repo_info"))
        check(info.get("name") == "sr", f"CREATE REPOSITORY wrote __repo_info, read back by the AWS CLI: {info}")
        check(str(info.get("create_time_ms", "")).isdigit(), f"with its creation time: {info}")

        # Doris' WITH S3 form and names; Hadoop's names on s3a://; an endpoint without a scheme
        # needs the plain-HTTP choice spelled out.
        host = endpoint.removeprefix("http://")
        doris = props(AWS_ENDPOINT=endpoint, AWS_ACCESS_KEY=access, AWS_SECRET_KEY=secret, AWS_REGION=region)
        query(conn, f'CREATE REPOSITORY dr WITH S3 ON LOCATION "s3://{bucket}/doris" PROPERTIES ({doris})')
        hadoop = props(**{"fs.s3a.access.key": access, "fs.s3a.secret.key": secret, "fs.s3a.endpoint": host,
                          "aws.s3.enable_ssl": "false", "aws.s3.region": region})
        query(conn, f'CREATE REPOSITORY hr WITH BROKER ON LOCATION "s3a://{bucket}/hadoop/" PROPERTIES ({hadoop})')
        check(sorted(aws.keys(bucket, "")) == sorted([
            "backups/__tabletvault_repository_sr/__repo_info", "doris/__tabletvault_repository_dr/__repo_info",
            "hadoop/__tabletvault_repository_hr/__repo_info"]),
            "each repository has its own __repo_info under its prefix")

        # The store's errors, named, without secrets.
        bad_secret = props(**{"aws.s3.access_key": access, "aws.s3.secret_key": "not-the-secret-" + secret[:4],
                              "aws.s3.endpoint": endpoint, "aws.s3.region": region})
        err = error_of(conn, f'CREATE REPOSITORY bad WITH BROKER ON LOCATION "s3://{bucket}/x" PROPERTIES ({bad_secret})')
        check(err is not None and err[0] == 1105 and err[1].startswith("Failed to create repository:")
              and "SignatureDoesNotMatch" in err[1] and "not-the-secret" not in err[1] and secret not in err[1],
              f"a wrong secret key: SignatureDoesNotMatch, no secret in the message: {err}")
        bad_key = props(**{"aws.s3.access_key": "TVNOSUCHKEY000000000", "aws.s3.secret_key": secret,
                           "aws.s3.endpoint": endpoint, "aws.s3.region": region})
        err = error_of(conn, f'CREATE REPOSITORY bad WITH BROKER ON LOCATION "s3://{bucket}/x" PROPERTIES ({bad_key})')
        check(err is not None and err[0] == 1105 and "InvalidAccessKeyId" in err[1],
              f"an unknown access key: InvalidAccessKeyId: {err}")
        err = error_of(conn, f'CREATE REPOSITORY bad WITH BROKER ON LOCATION "s3://{bucket}-missing/x" '
                             f'PROPERTIES ({starrocks})')
        check(err is not None and err[0] == 1105 and "NoSuchBucket" in err[1],
              f"a missing bucket: NoSuchBucket: {err}")
        err = error_of(conn, f'CREATE READ ONLY REPOSITORY nothere WITH BROKER ON LOCATION "s3://{bucket}/empty" '
                             f'PROPERTIES ({starrocks})')
        check(err is not None and err[0] == 1105 and "__tabletvault_repository_nothere/__repo_info not found" in err[1],
              f"READ ONLY on a location without the repository: {err}")
        names = sorted(r[1] for r in query(conn, "SHOW REPOSITORIES"))
        check(names == ["dr", "hr", "sr"], f"nothing refused was stored: {names}")

        # DROP is metadata only; READ ONLY adopts what is there, with its creation time.
        query(conn, "DROP REPOSITORY sr")
        check("backups/__tabletvault_repository_sr/__repo_info" in aws.keys(bucket, "backups/"),
              "DROP REPOSITORY leaves the remote data")
        query(conn, f'CREATE READ ONLY REPOSITORY sr WITH BROKER ON LOCATION "s3://{bucket}/backups" '
                    f'PROPERTIES ({starrocks})')
        before = query(conn, "SHOW REPOSITORIES")
        sr = [r for r in before if r[1] == "sr"][0]
        check(sr[3] == "true", f"the re-created repository is read only: {sr}")

        # Restart, then kill -9: the same repositories.
        server.stop()
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)
        check(query(conn, "SHOW REPOSITORIES") == before, "repositories survive a restart")
        server.stop(signal.SIGKILL)
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)
        check(query(conn, "SHOW REPOSITORIES") == before, "and kill -9")
        # Secrets: never in SHOW or the log; files holding them are the server user's alone.
        shown = repr(query(conn, "SHOW REPOSITORIES"))
        check(secret not in shown, "SHOW REPOSITORIES shows no secret")
        server.stop()
        log = open(log_path).read()
        check(secret not in log and "not-the-secret" not in log, "the server log holds no secret")
        holders = []
        for root, _, files in os.walk(data_dir):
            for name in files:
                path = os.path.join(root, name)
                try:
                    if secret.encode() in open(path, "rb").read():
                        holders.append(path)
                except OSError:
                    pass
        check(holders != [], f"the journal keeps the secret (needed after a restart): {holders}")
        loose = [p for p in holders if stat.S_IMODE(os.stat(p).st_mode) & 0o077]
        check(loose == [], f"files with secrets are readable by the server user only: {loose}")
        check(server.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
        aws.run("s3", "rb", f"s3://{bucket}", "--force", check_rc=False)
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s); server log in {log_path}")
        sys.exit(1)


if __name__ == "__main__":
    main()
