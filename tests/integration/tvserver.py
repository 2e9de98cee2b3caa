# SPDX-License-Identifier: Apache-2.0
# A tabletvault server process for Python integration tests: start on free ports, find them in
# the log, stop with a signal, and report ASan/UBSan findings from the log.
import os
import re
import signal
import subprocess
import time


class TvServer:
    def __init__(self, binary, data_dir, log_path, extra=()):
        self.binary, self.data_dir, self.log_path, self.extra = binary, data_dir, log_path, list(extra)
        self.process = None
        self.mysql_port = None
        self.http_port = None
        self._starts = 0

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--set", "bind_address=127.0.0.1",
             "--set", "query_port=0", "--set", "http_port=0"] + self.extra, stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            text = open(self.log_path).read()
            ports = re.findall(r"mysql: listening on 127\.0\.0\.1:(\d+)", text)
            if len(ports) > self._starts and text.count(" ready") > self._starts:
                self.mysql_port = int(ports[-1])
                self.http_port = int(re.findall(r"http: listening on 127\.0\.0\.1:(\d+)", text)[-1])
                self._starts += 1
                return
            if self.process.poll() is not None:
                raise RuntimeError("server exited during start-up:\n" + text[-3000:])
            time.sleep(0.02)
        raise RuntimeError("server did not start")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        code = None
        if self.process is not None:
            self.process.send_signal(sig)
            code = self.process.wait(timeout=timeout)
            self.process = None
        return code

    def sanitizer_reports(self):
        text = open(self.log_path).read()
        return [line for line in text.splitlines() if "Sanitizer" in line or "runtime error:" in line]
