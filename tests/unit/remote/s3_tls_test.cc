// SPDX-License-Identifier: Apache-2.0
// S3 over HTTPS against the Ceph RADOS Gateway behind stunnel4 with a throw-away CA: requests,
// multipart with 100-continue, connection reuse, and the failures users meet (unknown CA, a
// certificate for another name, TLS to a plain-HTTP port, a silent server), with their messages;
// then repositories opened from PROPERTIES (aws.s3.ca_file, aws.s3.tls_verify, gs://).
#include "support/co_test.hh"
#include "support/tls_terminator.hh"
#include "unit/remote/s3_test_util.hh"

#include "io/log.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "remote/repository.hh"
#include "remote/repository_config.hh"
#include "remote/s3_client.hh"

#include <fmt/format.h>

#include <memory>

using namespace tv;
using namespace tv::remote;
using tv::testing::bytes_of;
using tv::testing::pattern_bytes;

namespace {

struct tls_env {
    tv::testing::temp_dir dir;
    tv::testing::test_pki pki;
    tv::testing::tls_terminator tls;
    std::string skip_reason;
};

/// One terminator in front of the gateway for the whole run.
tls_env& env() {
    static std::unique_ptr<tls_env> e = [] {
        auto made = std::make_unique<tls_env>();
        made->pki = tv::testing::make_test_pki(made->dir.path());
        made->skip_reason = made->tls.start(made->pki, made->dir.path(), tv::testing::rgw().port);
        return made;
    }();
    return *e;
}

#define REQUIRE_RGW_TLS()                                     \
    do {                                                      \
        if (!tv::testing::rgw().running) {                    \
            CO_SKIP(tv::testing::rgw().skip_reason);          \
        }                                                     \
        if (!env().skip_reason.empty()) {                     \
            CO_SKIP(env().skip_reason);                       \
        }                                                     \
    } while (0)

/// The gateway through the terminator, trusting the test CA.
s3_client_options https_options(std::string bucket) {
    auto options = tv::testing::rgw_options(std::move(bucket));
    options.use_tls = true;
    options.endpoint_port = env().tls.port;
    options.ca_file = env().pki.ca_file;
    options.payload_signing = s3_payload_signing::unsigned_payload;  // the default over HTTPS
    options.retry.max_attempts = 2;
    return options;
}

s3_client make_client(s3_client_options options) {
    const auto& server = tv::testing::rgw();
    return s3_client(std::move(options), aws_credentials{server.access_key, server.secret_key, ""});
}

/// PROPERTIES for the gateway through the terminator, plus `extra`.
property_list https_properties(property_list extra) {
    const auto& server = tv::testing::rgw();
    property_list props{{"aws.s3.endpoint", fmt::format("https://127.0.0.1:{}", env().tls.port)},
                        {"aws.s3.access_key", server.access_key},
                        {"aws.s3.secret_key", server.secret_key},
                        {"aws.s3.region", server.region}};
    props.insert(props.end(), extra.begin(), extra.end());
    return props;
}

}  // namespace

CO_TEST(s3_tls, put_get_head_list_delete_over_https) {
    REQUIRE_RGW_TLS();
    auto client = make_client(https_options("tv-tls-basic"));
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    EXPECT_EQ(client.describe(), fmt::format("s3://tv-tls-basic at https://127.0.0.1:{}", env().tls.port));
    const std::string key = "dir/a b+ü.bin";
    const std::string second_key = "dir/second";
    std::string body = pattern_bytes(300'000, 1);
    std::string small = body.substr(0, 10);
    S3_CO_ASSERT_OK(co_await client.put_object(key, bytes_of(body)));
    S3_CO_ASSERT_OK(co_await client.put_object(second_key, bytes_of(small)));
    auto got = co_await client.get_object(key);
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == body) << "the object read back over HTTPS differs";
    byte_range middle{1000, 5000};
    auto range = co_await client.get_object(key, middle);
    S3_CO_ASSERT_OK(range);
    EXPECT_TRUE(*range == body.substr(1000, 5000));
    auto head = co_await client.head_object(key);
    S3_CO_ASSERT_OK(head);
    EXPECT_EQ(head->size, body.size());
    const std::string prefix = "dir/";
    auto listed = co_await client.list_all(prefix);
    S3_CO_ASSERT_OK(listed);
    CO_ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].key, key);
    EXPECT_EQ((*listed)[1].key, second_key);
    std::vector<std::string> both{key, second_key};
    S3_CO_ASSERT_OK(co_await client.delete_objects(std::move(both)));
    auto gone = co_await client.head_object(second_key);
    CO_ASSERT_FALSE(gone.has_value());
    EXPECT_EQ(gone.error().http_status, 404);
}

CO_TEST(s3_tls, multipart_upload_with_100_continue_over_https) {
    REQUIRE_RGW_TLS();
    auto client = make_client(https_options("tv-tls-multipart"));
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    // Parts of 1 MiB and more go out with Expect: 100-continue (http_client's threshold), here
    // through a client of their own, whose first request is a part.
    std::vector<std::string> parts{pattern_bytes(5 * 1024 * 1024, 2), pattern_bytes(5 * 1024 * 1024, 3),
                                   pattern_bytes(1'500'000, 4)};
    const std::string key = "big.bin";
    auto id = co_await client.create_multipart_upload(key);
    S3_CO_ASSERT_OK(id);
    auto parts_client = make_client(https_options("tv-tls-multipart"));
    std::vector<s3_part> done;
    for (size_t i = 0; i < parts.size(); ++i) {
        auto etag = co_await parts_client.upload_part(key, *id, static_cast<int>(i + 1), bytes_of(parts[i]));
        S3_CO_ASSERT_OK(etag);
        done.push_back(s3_part{static_cast<int>(i + 1), *etag, parts[i].size()});
    }
    auto listed = co_await client.list_parts(key, *id);
    S3_CO_ASSERT_OK(listed);
    EXPECT_EQ(listed->size(), 3u);
    S3_CO_ASSERT_OK(co_await client.complete_multipart_upload(key, *id, done));
    auto got = co_await client.get_object(key);
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == parts[0] + parts[1] + parts[2]) << "the multipart object read back differs";
    EXPECT_EQ(client.stats().retries, 0u);
}

CO_TEST(s3_tls, one_tls_connection_serves_sequential_requests) {
    REQUIRE_RGW_TLS();
    auto client = make_client(https_options("tv-tls-reuse"));
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    std::string body = "small";
    for (int i = 0; i < 5; ++i) {
        std::string key = fmt::format("k{}", i);
        S3_CO_ASSERT_OK(co_await client.put_object(key, bytes_of(body)));
    }
    auto got = co_await client.get_object("k3");
    S3_CO_ASSERT_OK(got);
    EXPECT_EQ(*got, body);
    const auto& stats = client.http().stats();
    EXPECT_EQ(stats.connections_opened, 1u);  // one handshake; the session is pooled and reused
    EXPECT_EQ(stats.connections_reused, 6u);
    EXPECT_EQ(client.http().idle_connections(http_endpoint{"127.0.0.1", env().tls.port}), 0u)
        << "a plain-HTTP endpoint must not share the TLS pool";
}

CO_TEST(s3_tls, a_pooled_session_the_server_closed_is_replaced_transparently) {
    REQUIRE_RGW_TLS();
    auto options = https_options("tv-tls-stale");
    options.endpoint_port = env().tls.idle_close_port;  // drops connections idle for a second
    options.retry.max_attempts = 1;                     // the pool's own replacement, not a retry
    auto client = make_client(options);
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    CO_ASSERT_EQ(client.http().stats().connections_opened, 1u);
    auto waited = co_await io::sleep(std::chrono::milliseconds(2500));
    CO_ASSERT_TRUE(waited.has_value());
    std::string body = "after idle";
    S3_CO_ASSERT_OK(co_await client.put_object("k", bytes_of(body)));
    const auto& stats = client.http().stats();
    EXPECT_EQ(stats.connections_reused, 1u);  // the pooled session was tried first...
    EXPECT_EQ(stats.connections_opened, 2u);  // ...found closed, and replaced by a new handshake
    EXPECT_EQ(client.stats().retries, 0u);
}

CO_TEST(s3_tls, an_unknown_ca_is_a_certificate_verify_failure) {
    REQUIRE_RGW_TLS();
    auto options = https_options("tv-tls-noca");
    options.ca_file.clear();  // the system store does not know the throw-away CA
    auto client = make_client(options);
    std::string body = "x";
    auto r = co_await client.put_object("k", bytes_of(body));
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message,
              fmt::format("PutObject s3://tv-tls-noca/k: TLS handshake with 127.0.0.1:{} failed: certificate verify "
                          "failed (unable to get local issuer certificate)",
                          env().tls.port));
    EXPECT_EQ(r.error().kind, s3_error_kind::network);
    EXPECT_FALSE(r.error().retryable);
    EXPECT_EQ(r.error().attempts, 1);  // a certificate does not get better by asking again
}

CO_TEST(s3_tls, a_certificate_for_another_host_is_a_name_mismatch) {
    REQUIRE_RGW_TLS();
    auto options = https_options("tv-tls-name");
    options.endpoint_host = "localhost";  // the URL's host; the certificate names other.example
    options.connect_host = "127.0.0.1";
    options.endpoint_port = env().tls.other_name_port;
    auto client = make_client(options);
    auto r = co_await client.head_object("k");
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message,
              fmt::format("HeadObject s3://tv-tls-name/k: TLS handshake with localhost:{} failed: certificate verify "
                          "failed (hostname mismatch)",
                          env().tls.other_name_port));
    // The same through the port whose certificate does name localhost: the name was the fault.
    options.endpoint_port = env().tls.port;
    auto good = make_client(options);
    S3_CO_ASSERT_OK(co_await good.create_bucket());
    S3_CO_ASSERT_OK(co_await good.put_object("k", bytes_of(options.bucket)));
}

CO_TEST(s3_tls, verification_off_talks_to_any_certificate) {
    REQUIRE_RGW_TLS();
    auto options = https_options("tv-tls-noverify");
    options.ca_file.clear();
    options.verify_tls = false;
    options.endpoint_port = env().tls.other_name_port;  // wrong CA for us and wrong name
    auto client = make_client(options);
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    std::string body = pattern_bytes(70'000, 5);
    S3_CO_ASSERT_OK(co_await client.put_object("k", bytes_of(body)));
    auto got = co_await client.get_object("k");
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == body);
}

CO_TEST(s3_tls, https_to_a_plain_http_port_fails_the_handshake) {
    REQUIRE_RGW_TLS();
    auto options = https_options("tv-tls-plain");
    options.endpoint_port = tv::testing::rgw().port;  // the gateway itself speaks HTTP
    auto client = make_client(options);
    auto r = co_await client.head_object("k");
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, fmt::format("HeadObject s3://tv-tls-plain/k: TLS handshake with 127.0.0.1:{} failed: "
                                             "wrong version number",
                                             tv::testing::rgw().port));
}

CO_TEST(s3_tls, a_server_that_never_answers_the_handshake_times_out) {
    // Connections queue in the backlog, so TCP connects, but no ServerHello ever comes.
    auto silent = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(silent.has_value());
    s3_client_options options;
    options.endpoint_host = "127.0.0.1";
    options.endpoint_port = silent->port;
    options.use_tls = true;
    options.bucket = "b";
    options.retry.max_attempts = 1;
    options.http.connect_timeout = std::chrono::milliseconds(200);
    s3_client client(options, aws_credentials{"AKID", "secret", ""});
    auto r = co_await client.head_object("k");
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, s3_error_kind::timeout);
    EXPECT_EQ(r.error().message, "HeadObject s3://b/k: Connection timed out");
}

// ---- repositories from PROPERTIES -------------------------------------------------------------

CO_TEST(s3_tls, a_repository_with_a_ca_file_pings_over_https) {
    REQUIRE_RGW_TLS();
    auto bucket_client = make_client(https_options("tv-tls-repo"));
    S3_CO_ASSERT_OK(co_await bucket_client.create_bucket());
    auto config = parse_repository_config("s3://tv-tls-repo/backups", https_properties({{"aws.s3.ca_file", env().pki.ca_file}}));
    S3_CO_ASSERT_OK(config);
    EXPECT_TRUE(config->use_https);
    auto store = open_store(*config);
    S3_CO_ASSERT_OK(store);
    EXPECT_EQ((*store)->describe(),
              fmt::format("s3://tv-tls-repo at https://127.0.0.1:{} under backups/", env().tls.port));
    auto info = co_await ping_repository(**store, "tls_repo", false, 1'700'000'000'000);
    S3_CO_ASSERT_OK(info);
    auto again = co_await ping_repository(**store, "tls_repo", true, 0);  // reads what it wrote
    S3_CO_ASSERT_OK(again);
    EXPECT_EQ(again->create_time_ms, 1'700'000'000'000);
}

CO_TEST(s3_tls, a_repository_without_the_ca_file_fails_with_the_certificate_error) {
    REQUIRE_RGW_TLS();
    auto config = parse_repository_config("s3://tv-tls-repo/backups", https_properties({}));
    S3_CO_ASSERT_OK(config);
    auto store = open_store(*config);
    S3_CO_ASSERT_OK(store);
    auto info = co_await ping_repository(**store, "tls_repo", false, 0);
    CO_ASSERT_FALSE(info.has_value());
    // A failed handshake is a transport failure like any other: users read one message for
    // every way an endpoint can fail to be S3 (the certificate's fault is in the server log).
    EXPECT_EQ(info.error().message,
              fmt::format("could not reach endpoint https://127.0.0.1:{}: connection failed", env().tls.port));
}

CO_TEST(s3_tls, verification_off_works_and_logs_a_warning_when_opened) {
    REQUIRE_RGW_TLS();
    auto bucket_client = make_client(https_options("tv-tls-repo"));
    S3_CO_ASSERT_OK(co_await bucket_client.create_bucket());
    auto config = parse_repository_config("s3://tv-tls-repo/unverified",
                                          https_properties({{std::string(tls_verify_property), "false"}}));
    S3_CO_ASSERT_OK(config);
    tv::testing::temp_dir logs;
    CO_ASSERT_EQ(tv::log::set_file(logs.file("server.log")), std::nullopt);
    auto store = open_store(*config);
    tv::log::set_file("");
    S3_CO_ASSERT_OK(store);
    EXPECT_NE(tv::testing::read_text(logs.file("server.log"))
                  .find("repository s3://tv-tls-repo/unverified: TLS certificate verification is off "
                        "(aws.s3.tls_verify=false): the server at 127.0.0.1:" +
                        std::to_string(env().tls.port) + " is not authenticated"),
              std::string::npos)
        << tv::testing::read_text(logs.file("server.log"));
    S3_CO_ASSERT_OK(co_await ping_repository(**store, "unverified", false, 0));
}

TEST(s3_tls, an_unreadable_ca_file_fails_when_the_repository_is_opened) {
    auto config = parse_repository_config(
        "s3://b", {{"aws.s3.endpoint", "https://127.0.0.1:1"},
                   {"aws.s3.access_key", "AKID"},
                   {"aws.s3.secret_key", "secret"},
                   {"aws.s3.ca_file", "/nonexistent/ca.pem"}});
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto store = open_store(*config);
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().code, remote_errc::bad_config);
    EXPECT_EQ(store.error().message,
              "cannot use CA file '/nonexistent/ca.pem' (aws.s3.ca_file): No such file or directory");
}

TEST(s3_tls, gs_locations_use_the_interoperability_endpoint_over_https) {
    auto config = parse_repository_config("gs://my-bucket/tv",
                                          {{"aws.s3.access_key", "GOOGEXAMPLE"}, {"aws.s3.secret_key", "secret"}});
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_TRUE(config->use_https);
    EXPECT_TRUE(config->path_style);
    auto store = open_store(*config);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    EXPECT_EQ((*store)->describe(), "s3://my-bucket at https://storage.googleapis.com:443 under tv/");
}
