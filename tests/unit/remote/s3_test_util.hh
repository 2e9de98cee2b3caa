// SPDX-License-Identifier: Apache-2.0
// Real S3 servers for the S3 client tests: the Ceph RADOS Gateway of the `rgw` CTest fixture
// (the reference), and a moto_server started once per test executable for what the gateway
// lacks (STS, IAM; IAM user and key created first, then signature checking turned on). Also a
// fault-injecting HTTP proxy to put in front of either, and the AWS CLI command line for RGW.
#pragma once

#include "io/gate.hh"
#include "io/socket.hh"
#include "io/when_all.hh"
#include "remote/s3_client.hh"
#include "support/co_test.hh"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

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

/// Skips the calling test (GTEST_SKIP) unless the gateway is up. In a CO_TEST body use
/// CO_REQUIRE_RGW(): GTEST_SKIP returns, which a coroutine cannot.
#define TV_REQUIRE_RGW()                                                  \
    do {                                                                  \
        if (!::tv::testing::rgw().running) {                              \
            GTEST_SKIP() << ::tv::testing::rgw().skip_reason;             \
        }                                                                 \
    } while (0)

#define CO_REQUIRE_RGW()                                \
    do {                                                \
        if (!::tv::testing::rgw().running) {            \
            CO_SKIP(::tv::testing::rgw().skip_reason);  \
        }                                               \
    } while (0)

/// The gateway user's keys.
remote::aws_credentials rgw_credentials();

/// A client for `bucket` on the gateway with its user's keys.
remote::s3_client rgw_client(std::string bucket,
                             remote::s3_payload_signing signing = remote::s3_payload_signing::signed_payload);

/// A bucket name no earlier run used ("stem-<pid>-<time>"): the fixture may reuse a gateway.
std::string unique_bucket(std::string_view stem);

/// `env ... aws --endpoint-url http://<gateway>` with the user's keys and region in the AWS CLI's
/// environment (AWS_CA_BUNDLE unset: it breaks plain-HTTP endpoints here); append the
/// subcommand. Empty when the CLI is not installed.
std::string rgw_aws_cli();

/// `size` bytes of a deterministic pseudo-random pattern (every byte value occurs).
std::string pattern_bytes(size_t size, unsigned seed);

inline std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

/// Asserts an s3_result or remote_result holds a value, printing its message otherwise.
#define S3_CO_ASSERT_OK(r)                                                                               \
    do {                                                                                                 \
        auto&& tv_r_ = (r);                                                                              \
        TV_CO_ASSERT(ASSERT_TRUE(tv_r_.has_value()) << #r << ": " << tv_r_.error().message);             \
    } while (0)

// ---- the fault proxy --------------------------------------------------------------------------

enum class fault_kind {
    forward,       ///< pass the request upstream and its answer back unchanged
    error,         ///< answer at once with `status` and an S3 error document (`code`, `message`)
    hold,          ///< forward, then hold the answer back for `hold` (a server slower than the client's timeout)
    reset,         ///< read the whole request, then reset the connection (RST) without answering
    cut_response,  ///< forward, send the first half of the answer's bytes, then close
    corrupt_body,  ///< flip one byte in the middle of the request body, then forward
};

struct fault_step {
    fault_kind kind = fault_kind::forward;
    int status = 503;
    std::string code = "SlowDown";
    std::string message = "injected by the test proxy";
    std::chrono::milliseconds hold{0};

    static fault_step error(int status, std::string code, std::string message = "injected by the test proxy") {
        return fault_step{fault_kind::error, status, std::move(code), std::move(message), {}};
    }
    static fault_step slow(std::chrono::milliseconds hold) { return fault_step{fault_kind::hold, 0, {}, {}, hold}; }
    static fault_step of(fault_kind kind) { return fault_step{kind, 0, {}, {}, {}}; }
};

/// An HTTP proxy in front of an S3 server. Request n (counted from 1 over every connection)
/// meets `script[n-1]`; requests past the script are forwarded. Signatures stay valid through
/// it: the client signs for the proxy's host:port and the Host header is passed on as it is.
/// Forwarded answers keep their headers (bodies re-framed with Content-Length); Expect:
/// 100-continue is answered by the proxy itself.
struct fault_proxy {
    std::vector<fault_step> script;
    /// Shorthand kept for older tests: the first `fail_count` requests not covered by `script`
    /// are answered with `fail_status` and `fail_code`.
    int fail_count = 0;
    int fail_status = 503;
    std::string fail_code = "SlowDown";

    int requests_seen = 0;
    std::vector<std::string> seen;  ///< "METHOD target" of every request, in arrival order
    std::string upstream_host = "127.0.0.1";
    uint16_t upstream_port = 0;
    io::listener listener;
    io::gate gate;
    std::stop_source stop;

    /// Binds 127.0.0.1:0; false when it cannot.
    bool bind();
    /// Accepts and serves until `stop` is requested, then waits for every connection task.
    io::task<void> run();
    /// What request `n` (from 1) meets.
    fault_step step_for(int n) const;
};

/// A fault proxy bound in front of the gateway: check `bound` before using it.
struct rgw_fault_proxy : fault_proxy {
    bool bound = false;
    rgw_fault_proxy();
    /// rgw_options(bucket) aimed at the proxy.
    remote::s3_client_options options(std::string bucket) const;
};

namespace detail {

template <class T>
io::task<void> run_then_stop(fault_proxy* proxy, io::task<T> work, std::optional<T>* out) {
    struct stopper {
        fault_proxy* proxy;
        ~stopper() { proxy->stop.request_stop(); }  // also when `work` throws
    } stop_on_exit{proxy};
    out->emplace(co_await std::move(work));
}

}  // namespace detail

/// Runs `work` while `proxy` serves, then stops the proxy and waits for it; yields `work`'s value.
template <class T>
io::task<T> through(fault_proxy* proxy, io::task<T> work) {
    std::optional<T> out;
    auto serving = proxy->run();
    auto client = detail::run_then_stop(proxy, std::move(work), &out);
    co_await io::when_all(std::move(serving), std::move(client));
    co_return std::move(*out);
}

}  // namespace tv::testing
