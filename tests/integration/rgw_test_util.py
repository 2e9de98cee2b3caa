# SPDX-License-Identifier: Apache-2.0
# The Ceph RADOS Gateway of the `rgw` CTest fixture for Python tests: its settings (from the
# env file TV_RGW_ENV names; exit 77 without them) and the AWS CLI against it, as an
# independent reader of what our S3 client wrote.
import json
import os
import shutil
import subprocess
import sys


def read_rgw_env():
    path = os.environ.get("TV_RGW_ENV", "")
    if not path or not os.path.exists(path):
        print(f"skip: TV_RGW_ENV ({path or 'unset'}) does not name the gateway's env file "
              "(CTest's rgw fixture sets it; by hand: tests/support/rgw_fixture.sh up DIR)")
        sys.exit(77)
    if shutil.which("aws") is None:
        print("skip: the AWS CLI (aws) is not installed")
        sys.exit(77)
    values = {}
    for line in open(path):
        key, _, value = line.strip().partition("=")
        values[key] = value
    return values


def repository_properties(rgw):
    """PROPERTIES (...) text of CREATE REPOSITORY for the gateway: its keys, endpoint and region."""
    return ", ".join(f'"{k}" = "{v}"' for k, v in {
        "aws.s3.access_key": rgw["access_key"], "aws.s3.secret_key": rgw["secret_key"],
        "aws.s3.endpoint": rgw["endpoint"], "aws.s3.region": rgw["region"]}.items())


class Aws:
    """The AWS CLI against the gateway (plain HTTP: without AWS_CA_BUNDLE)."""

    def __init__(self, rgw):
        self.endpoint = rgw["endpoint"]
        self.env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
        self.env.update(AWS_ACCESS_KEY_ID=rgw["access_key"], AWS_SECRET_ACCESS_KEY=rgw["secret_key"],
                        AWS_DEFAULT_REGION=rgw["region"], AWS_EC2_METADATA_DISABLED="true")

    def run(self, *args, check_rc=True):
        out = subprocess.run(["aws", "--endpoint-url", self.endpoint, *args], env=self.env,
                             capture_output=True, timeout=300)
        if check_rc and out.returncode != 0:
            raise RuntimeError(f"aws {' '.join(args)}: {out.stderr.decode()}")
        return out

    def read_bytes(self, bucket, key):
        return self.run("s3", "cp", f"s3://{bucket}/{key}", "-").stdout

    def read(self, bucket, key):
        return self.read_bytes(bucket, key).decode()

    def keys(self, bucket, prefix):
        out = self.run("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix)
        return [o["Key"] for o in json.loads(out.stdout or b"{}").get("Contents", [])]

    def open_uploads(self, bucket):
        out = self.run("s3api", "list-multipart-uploads", "--bucket", bucket)
        return json.loads(out.stdout or b"{}").get("Uploads", [])

    def parts(self, bucket, key, upload_id):
        """The parts an open upload has; none when it has ended meanwhile (or has none: the AWS
        CLI fails on an empty part list)."""
        out = self.run("s3api", "list-parts", "--bucket", bucket, "--key", key, "--upload-id", upload_id,
                       check_rc=False)
        if out.returncode != 0:
            return []
        return json.loads(out.stdout or b"{}").get("Parts", [])
