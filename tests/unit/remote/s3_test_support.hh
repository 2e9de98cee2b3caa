// SPDX-License-Identifier: Apache-2.0
// A real moto_server for the S3 client tests, started once per test executable: IAM user and
// key created first, then signature checking turned on. Also a fault-injecting TCP proxy.
#pragma once

#include "io/gate.hh"
#include "io/socket.hh"
#include "remote/s3_client.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <stop_token>
#include <string>

namespace tv::testing {

struct moto_server {
    bool running = false;
    std::string skip_reason;  ///< why the S3 tests skip when not running
    uint16_t port = 0;
    std::string access_key;
    std::string secret_key;
    int pid = -1;

    std::string endpoint_url() const { return "http://127.0.0.1:" + std::to_string(port); }
    /// Turns moto's signature checking on (true) or off.
    bool set_auth(bool on);
};

/// The shared server (started by the GoogleTest environment this file's .cc registers).
moto_server& moto();

/// A client for `bucket` on moto with the IAM key (or `credentials` when given).
remote::s3_client_options moto_options(std::string bucket, uint16_t port = 0);

/// The Ceph RADOS Gateway the `rgw` CTest fixture started (tests/support/rgw_fixture.sh), found
/// through TV_RGW_ENV (the fixture's DIR/env: endpoint=, access_key=, secret_key=, region=).
/// Run by hand: `tests/support/rgw_fixture.sh up /tmp/rgw && TV_RGW_ENV=/tmp/rgw/env remote_test`.
struct rgw_server {
    bool running = false;
    std::string skip_reason;  ///< why the RGW tests skip when not running
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    std::string access_key;
    std::string secret_key;
    std::string region;

    std::string endpoint_url() const { return "http://" + host + ":" + std::to_string(port); }
};

const rgw_server& rgw();

/// A client for `bucket` on the gateway (path style, signed payloads, short retry delays).
remote::s3_client_options rgw_options(std::string bucket);

/// Skips the calling test (GTEST_SKIP) unless the gateway is up.
#define TV_REQUIRE_RGW()                                                  \
    do {                                                                  \
        if (!::tv::testing::rgw().running) {                              \
            GTEST_SKIP() << ::tv::testing::rgw().skip_reason;             \
        }                                                                 \
    } while (0)

/// Answers the first `fail_count` requests with `fail_status` + an S3 error document carrying
/// `fail_code`, then forwards requests to moto unchanged (signatures stay valid: the Host header
/// is passed through) and relays the answers.
struct fault_proxy {
    int fail_count = 0;
    int fail_status = 503;
    std::string fail_code = "SlowDown";
    int requests_seen = 0;
    uint16_t upstream_port = 0;
    io::listener listener;
    io::gate gate;
    std::stop_source stop;

    /// Binds 127.0.0.1:0; false when it cannot.
    bool bind();
    /// Accepts and serves until `stop` is requested, then waits for every connection task.
    io::task<void> run();
};

}  // namespace tv::testing
