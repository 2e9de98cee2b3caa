#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Stream Load of one huge bad field (a row whose INT column holds N MiB of text): the time until
# the answer and the answer's size, for each N. Linear parsing shows as a time per MiB that
# stays flat as N grows; a capped echo as an answer of a few hundred bytes whatever N. Prints a
# table; nothing is judged.
#
# Usage: bench/stream-load-field-bench.py [--binary PATH] [--sizes 8,16,32,64] [--runs R]
#   --binary defaults to build-release/tabletvault (Release: figures of a sanitized Debug build
#   are several times slower).
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pymysql

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "tests", "integration"))
from tvserver import TvServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(root, "build-release", "tabletvault"))
    parser.add_argument("--sizes", default="8,16,32,64")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tv-field-bench-")
    server = TvServer(args.binary, os.path.join(work, "data"), os.path.join(work, "server.log"))
    try:
        server.start()
        conn = pymysql.connect(host="127.0.0.1", port=server.mysql_port, user="root", autocommit=True)
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE b")
            cur.execute("CREATE TABLE b.t (id INT NOT NULL, v INT) DUPLICATE KEY(id) "
                        "DISTRIBUTED BY HASH(id) BUCKETS 1")
        print(f"{'field MiB':>9} {'median s':>9} {'s per MiB':>10} {'answer bytes':>13}")
        for mb in (int(s) for s in args.sizes.split(",")):
            path = os.path.join(work, "field.csv")
            with open(path, "wb") as f:
                f.write(b"1\t" + b"x" * (mb << 20) + b"\n")
            times, size = [], 0
            for run in range(args.runs):
                started = time.time()
                out = subprocess.run(["curl", "-sS", "-u", "root:", "-T", path, "-H", f"label:f{mb}_{run}",
                                      f"http://127.0.0.1:{server.http_port}/api/b/t/_stream_load"],
                                     capture_output=True, check=True)
                times.append(time.time() - started)
                size = len(out.stdout)
            median = statistics.median(times)
            print(f"{mb:>9} {median:>9.2f} {median / mb:>10.3f} {size:>13}")
            os.unlink(path)
        server.stop()
    finally:
        if server.process is not None:
            server.stop(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
