#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CTest fixture around Ceph's RADOS Gateway: `up DIR` starts one single-node cluster for the
# whole test run on a free loopback port (its endpoint and keys land in DIR/env, which tests find
# through TV_RGW_ENV); `down DIR` stops it. A failed start fails the fixture, and with it every
# test that needs a real S3 server: the RGW is the S3 reference these tests are written against.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
action="${1:?usage: rgw_fixture.sh up|down DIR}"
dir="${2:?usage: rgw_fixture.sh up|down DIR}"

case "${action}" in
up)
    if "${here}/ceph-rgw" status "${dir}" > /dev/null 2>&1; then
        echo "rgw_fixture: reusing the gateway in ${dir}"
        cat "${dir}/env"
        exit 0
    fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "${here}/ceph-rgw" up "${dir}" "${port}"
    ;;
down)
    "${here}/ceph-rgw" down "${dir}"
    ;;
*)
    echo "usage: rgw_fixture.sh up|down DIR" >&2
    exit 2
    ;;
esac
