// SPDX-License-Identifier: Apache-2.0
// Fault handling against the RADOS Gateway through the fault proxy of s3_test_util: 503
// SlowDown and 500 answers, a slow server, connections reset before or during the answer are
// retried and succeed (the caller hears each retry); retries stop at the policy's deadline;
// 403 and a body altered in transit (the signed payload hash catches it) fail at once.
#include "support/co_test.hh"
#include "unit/remote/s3_test_util.hh"

#include "remote/s3_client.hh"

#include <fmt/format.h>

#include <chrono>

using namespace tv;
using namespace tv::remote;
using tv::testing::bytes_of;
using tv::testing::fault_kind;
using tv::testing::fault_step;
using tv::testing::pattern_bytes;
using tv::testing::rgw_client;
using tv::testing::unique_bucket;

namespace {

io::task<s3_result<std::string>> put_through(s3_client* client, std::string key, std::string body) {
    auto r = co_await client->put_object(std::move(key), bytes_of(body));
    co_return r;
}

io::task<s3_result<std::string>> get_through(s3_client* client, std::string key) {
    auto r = co_await client->get_object(std::move(key));
    co_return r;
}

/// A put whose retries `heard` records (the number of each failed attempt, from on_retry).
io::task<s3_result<std::string>> put_observed(s3_client* client, std::string key, std::string body,
                                              std::vector<int>* heard) {
    call_options call(std::stop_token{}, [heard](const remote_error& e) { heard->push_back(e.attempts); });
    auto r = co_await client->put_object(std::move(key), bytes_of(body), std::move(call));
    co_return r;
}

}  // namespace

#define CO_REQUIRE_PROXY(proxy)                                        \
    do {                                                               \
        if (!(proxy).bound) {                                          \
            CO_SKIP("cannot bind the fault proxy on 127.0.0.1");       \
        }                                                              \
    } while (0)

CO_TEST(s3_rgw_faults, slow_down_and_internal_error_are_retried) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-retry");
    auto direct = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await direct.create_bucket());
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script = {fault_step::error(503, "SlowDown", "Please reduce your request rate."),
                    fault_step::error(500, "InternalError")};
    s3_client client(proxy.options(bucket), tv::testing::rgw_credentials());
    std::vector<int> heard;
    auto work = put_observed(&client, "through-proxy", "retried body", &heard);
    auto put = co_await tv::testing::through(&proxy, std::move(work));
    S3_CO_ASSERT_OK(put);
    EXPECT_EQ(proxy.requests_seen, 3);
    EXPECT_EQ(client.stats().attempts, 3u);
    EXPECT_EQ(client.stats().retries, 2u);
    EXPECT_EQ(heard, (std::vector<int>{1, 2})) << "the caller hears each retry with the attempt that failed";
    // Error answers keep the connection: all three went over one.
    EXPECT_EQ(client.http().stats().connections_opened, 1u);
    auto got = co_await direct.get_object("through-proxy");
    S3_CO_ASSERT_OK(got);
    EXPECT_EQ(*got, "retried body");
}

CO_TEST(s3_rgw_faults, bodiless_503_is_retried_and_the_last_failure_is_shown) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-retry-out");
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script.assign(4, fault_step::error(503, ""));  // a load balancer's answer: no S3 document
    auto options = proxy.options(bucket);
    options.retry.throttled_max_attempts = 4;  // a 503 is the store asking for less: the throttled count
    s3_client client(std::move(options), tv::testing::rgw_credentials());
    auto work = get_through(&client, "k");
    auto got = co_await tv::testing::through(&proxy, std::move(work));
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, "ServiceUnavailable");
    EXPECT_EQ(got.error().attempts, 4);
    EXPECT_EQ(proxy.requests_seen, 4);
    EXPECT_EQ(got.error().message,
              fmt::format("GetObject s3://{}/k: ServiceUnavailable (HTTP 503, no S3 error document) (after 4 attempts)",
                          bucket));
    EXPECT_TRUE(got.error().transport) << "users read: could not reach endpoint ...";
}

CO_TEST(s3_rgw_faults, no_attempt_starts_after_the_retry_deadline) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-deadline");
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script.assign(200, fault_step::error(503, "SlowDown", "Please reduce your request rate."));
    auto options = proxy.options(bucket);
    options.retry.throttled_max_attempts = 200;
    options.retry.throttled_base_delay = std::chrono::milliseconds(40);
    options.retry.throttled_max_delay = std::chrono::milliseconds(40);
    options.retry.deadline = std::chrono::milliseconds(400);
    s3_client client(std::move(options), tv::testing::rgw_credentials());
    auto started = std::chrono::steady_clock::now();
    auto work = get_through(&client, "k");
    auto got = co_await tv::testing::through(&proxy, std::move(work));
    auto took = std::chrono::steady_clock::now() - started;
    CO_ASSERT_FALSE(got.has_value());
    int attempts = got.error().attempts;
    EXPECT_GT(attempts, 2);
    EXPECT_LT(attempts, 200) << "the deadline, not the attempts, ended it";
    EXPECT_EQ(proxy.requests_seen, attempts);
    EXPECT_LT(took, std::chrono::milliseconds(1500));
    EXPECT_EQ(got.error().message,
              fmt::format("GetObject s3://{}/k: SlowDown (HTTP 503: Please reduce your request rate.) "
                          "[request id proxy-{}] (after {} attempts; the retry deadline of 400 ms passed)",
                          bucket, attempts, attempts));
}

CO_TEST(s3_rgw_faults, slow_answer_times_out_and_is_retried) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-slow");
    auto direct = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await direct.create_bucket());
    std::string body = pattern_bytes(50'000, 11);
    S3_CO_ASSERT_OK(co_await direct.put_object("slow", bytes_of(body)));
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    // Held far past the client's deadline (the proxy's stop ends the hold).
    proxy.script = {fault_step::slow(std::chrono::seconds(60))};
    auto options = proxy.options(bucket);
    options.http.request_timeout = std::chrono::milliseconds(1000);
    s3_client client(std::move(options), tv::testing::rgw_credentials());
    auto started = std::chrono::steady_clock::now();
    auto work = get_through(&client, "slow");
    auto got = co_await tv::testing::through(&proxy, std::move(work));
    auto took = std::chrono::steady_clock::now() - started;
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == body);
    EXPECT_EQ(proxy.requests_seen, 2);
    EXPECT_EQ(client.stats().attempts, 2u);
    EXPECT_EQ(client.stats().retries, 1u);
    EXPECT_EQ(client.http().stats().connections_opened, 2u) << "the timed-out connection is not reused";
    EXPECT_GE(took, std::chrono::milliseconds(1000));
}

CO_TEST(s3_rgw_faults, every_attempt_timing_out_says_so) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-slow-out");
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script.assign(2, fault_step::slow(std::chrono::seconds(60)));
    auto options = proxy.options(bucket);
    options.http.request_timeout = std::chrono::milliseconds(300);
    options.retry.max_attempts = 2;
    s3_client client(std::move(options), tv::testing::rgw_credentials());
    auto work = put_through(&client, "never", "body");
    auto put = co_await tv::testing::through(&proxy, std::move(work));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().kind, s3_error_kind::timeout);
    EXPECT_EQ(put.error().attempts, 2);
    EXPECT_EQ(put.error().to_remote_error().code, remote_errc::io_error);
    EXPECT_EQ(put.error().message,
              fmt::format("PutObject s3://{}/never: Connection timed out (after 2 attempts)", bucket));
}

CO_TEST(s3_rgw_faults, connection_reset_before_the_answer_is_retried) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-reset");
    auto direct = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await direct.create_bucket());
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script = {fault_step::of(fault_kind::reset)};
    s3_client client(proxy.options(bucket), tv::testing::rgw_credentials());
    auto work = put_through(&client, "after-reset", "stored on the second attempt");
    auto put = co_await tv::testing::through(&proxy, std::move(work));
    S3_CO_ASSERT_OK(put);
    EXPECT_EQ(proxy.requests_seen, 2);
    EXPECT_EQ(client.stats().attempts, 2u);
    EXPECT_EQ(client.stats().retries, 1u);
    auto got = co_await direct.get_object("after-reset");
    S3_CO_ASSERT_OK(got);
    EXPECT_EQ(*got, "stored on the second attempt");
}

CO_TEST(s3_rgw_faults, connection_closed_mid_answer_is_retried) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-cut");
    auto direct = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await direct.create_bucket());
    std::string body = pattern_bytes(200'000, 12);
    S3_CO_ASSERT_OK(co_await direct.put_object("cut", bytes_of(body)));
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script = {fault_step::of(fault_kind::cut_response)};  // head and ~100 KB of body, then close
    s3_client client(proxy.options(bucket), tv::testing::rgw_credentials());
    auto work = get_through(&client, "cut");
    auto got = co_await tv::testing::through(&proxy, std::move(work));
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == body) << "got " << got->size() << " bytes";
    EXPECT_EQ(proxy.requests_seen, 2);
    EXPECT_EQ(client.stats().attempts, 2u);
}

CO_TEST(s3_rgw_faults, forbidden_fails_at_once) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-forbidden");
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script.assign(5, fault_step::error(403, "AccessDenied", "Access Denied"));
    s3_client client(proxy.options(bucket), tv::testing::rgw_credentials());
    auto work = put_through(&client, "never-stored", "body");
    auto put = co_await tv::testing::through(&proxy, std::move(work));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, "AccessDenied");
    EXPECT_EQ(put.error().request_id, "proxy-1");
    EXPECT_EQ(put.error().attempts, 1);
    EXPECT_EQ(proxy.requests_seen, 1);
    EXPECT_EQ(put.error().to_remote_error().code, remote_errc::permission_denied);
    EXPECT_EQ(put.error().message,
              fmt::format("PutObject s3://{}/never-stored: AccessDenied (HTTP 403: Access Denied) [request id proxy-1]",
                          bucket));
}

CO_TEST(s3_rgw_faults, region_error_from_aws_is_shown_whole) {
    CO_REQUIRE_RGW();
    // RGW accepts any region (see s3_client_test.cc); AWS answers a wrong one like this.
    std::string bucket = unique_bucket("tv-aws-region");
    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script = {fault_step::error(
        400, "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'")};
    auto options = proxy.options(bucket);
    options.region = "eu-west-1";
    s3_client client(std::move(options), tv::testing::rgw_credentials());
    auto work = get_through(&client, "k");
    auto got = co_await tv::testing::through(&proxy, std::move(work));
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().attempts, 1);
    EXPECT_EQ(got.error().message,
              fmt::format("GetObject s3://{}/k: AuthorizationHeaderMalformed (HTTP 400: The authorization header is "
                          "malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1') [request id proxy-1]",
                          bucket));
}

CO_TEST(s3_rgw_faults, body_altered_in_transit_fails_a_signed_payload) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-tamper");
    auto direct = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await direct.create_bucket());
    std::string body = pattern_bytes(10'000, 13);

    tv::testing::rgw_fault_proxy proxy;
    CO_REQUIRE_PROXY(proxy);
    proxy.script.assign(3, fault_step::of(fault_kind::corrupt_body));
    s3_client signed_client(proxy.options(bucket), tv::testing::rgw_credentials());
    auto work = put_through(&signed_client, "signed", body);
    auto put = co_await tv::testing::through(&proxy, std::move(work));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, "XAmzContentSHA256Mismatch");
    EXPECT_EQ(put.error().http_status, 400);
    EXPECT_EQ(put.error().attempts, 1);
    EXPECT_EQ(proxy.requests_seen, 1);
    EXPECT_TRUE(put.error().message.starts_with(
        fmt::format("PutObject s3://{}/signed: XAmzContentSHA256Mismatch (HTTP 400)", bucket)))
        << put.error().message;
    auto absent = co_await direct.head_object("signed");
    CO_ASSERT_FALSE(absent.has_value());
    EXPECT_EQ(absent.error().http_status, 404);

    // The same alteration under UNSIGNED-PAYLOAD is stored as it arrived: the proxy really
    // alters the body, and only the signed hash protects it over plain HTTP.
    tv::testing::rgw_fault_proxy second;
    CO_REQUIRE_PROXY(second);
    second.script = {fault_step::of(fault_kind::corrupt_body)};
    auto unsigned_options = second.options(bucket);
    unsigned_options.payload_signing = s3_payload_signing::unsigned_payload;
    s3_client unsigned_client(std::move(unsigned_options), tv::testing::rgw_credentials());
    auto unsigned_work = put_through(&unsigned_client, "unsigned", body);
    auto stored = co_await tv::testing::through(&second, std::move(unsigned_work));
    S3_CO_ASSERT_OK(stored);
    auto got = co_await direct.get_object("unsigned");
    S3_CO_ASSERT_OK(got);
    CO_ASSERT_EQ(got->size(), body.size());
    std::string expected = body;
    expected[expected.size() / 2] ^= 0x01;
    EXPECT_TRUE(*got == expected);
}
