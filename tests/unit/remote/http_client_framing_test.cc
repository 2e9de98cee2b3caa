// SPDX-License-Identifier: Apache-2.0
// http_client refuses to write a request whose header names or values, method or target hold
// CR, LF or NUL (the characters that end a header line and let a second request ride along):
// it returns an error and never connects. End to end: a session token with CR/LF handed out by
// an instance metadata service is refused the same way, whatever the configuration checked.
#include "unit/remote/credentials_test_util.hh"

#include "remote/http_client.hh"

#include <gtest/gtest.h>

namespace tv::remote {
namespace {

using tv::testing::bytes_of;
using tv::testing::imds_server;
using tv::testing::with_imds;

http_client_request request_with(std::string name, std::string value) {
    http_client_request r;
    r.method = "GET";
    r.target = "/bucket/key";
    r.headers.emplace_back(std::move(name), std::move(value));
    return r;
}

/// Sends `request` to a port that listens but never accepts: a refused request must fail
/// before any connection is made.
io::task<void> expect_not_sent(http_client_request request, std::string what) {
    auto listener = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listener.has_value());
    http_client client;
    http_endpoint endpoint{"127.0.0.1", listener->port};
    auto r = co_await client.send(endpoint, std::move(request));
    CO_ASSERT_FALSE(r.has_value());  // sent: refused only after connecting
    EXPECT_EQ(r.error(), std::make_error_code(std::errc::invalid_argument)) << what << ": " << r.error().message();
    EXPECT_EQ(client.stats().connections_opened, 0u) << what << ": a connection was opened";
}

CO_TEST(http_client_framing, cr_lf_or_nul_in_a_header_value_is_never_sent) {
    co_await expect_not_sent(request_with("X-Amz-Security-Token", "token\r\n\r\nDELETE /victim HTTP/1.1\r\nHost: x"),
                             "CR/LF");
    co_await expect_not_sent(request_with("X-Amz-Security-Token", "token\nX-Evil: 1"), "a bare LF");
    co_await expect_not_sent(request_with("X-Amz-Security-Token", "token\rX-Evil: 1"), "a bare CR");
    co_await expect_not_sent(request_with("X-Amz-Security-Token", std::string("tok\0en", 6)), "NUL");
}

CO_TEST(http_client_framing, a_header_name_that_is_not_a_token_is_never_sent) {
    co_await expect_not_sent(request_with("X-Evil: 1\r\nX-Other", "v"), "CR/LF in a name");
    co_await expect_not_sent(request_with("X Evil", "v"), "a space in a name");
    co_await expect_not_sent(request_with("X-Evil:", "v"), "a colon in a name");
    co_await expect_not_sent(request_with("", "v"), "an empty name");
}

CO_TEST(http_client_framing, a_bad_method_or_target_is_never_sent) {
    auto target = request_with("X-Ok", "v");
    target.target = "/key HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET /";
    co_await expect_not_sent(std::move(target), "CR/LF in the target");
    auto space = request_with("X-Ok", "v");
    space.target = "/a b";
    co_await expect_not_sent(std::move(space), "a space in the target");
    auto method = request_with("X-Ok", "v");
    method.method = "GET /x HTTP/1.1\r\n\r\nDELETE";
    co_await expect_not_sent(std::move(method), "CR/LF in the method");
}

CO_TEST(http_client_framing, the_host_header_from_the_endpoint_is_checked_too) {
    auto listener = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listener.has_value());
    http_client client;
    // Connecting goes to 127.0.0.1, but the Host header comes from the endpoint's name.
    http_endpoint endpoint{"127.0.0.1\r\nX-Evil: 1", listener->port};
    auto r = co_await client.send(endpoint, request_with("X-Ok", "v"));
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::make_error_code(std::errc::invalid_argument));
    EXPECT_EQ(client.stats().connections_opened, 0u);
}

CO_TEST(http_client_framing, a_well_formed_request_still_goes_out) {
    // The check must not refuse what S3 requests carry: '=' '/' ',' ';' and spaces in values.
    auto listener = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listener.has_value());
    http_client_options options;
    options.connect_timeout = std::chrono::milliseconds(500);
    options.request_timeout = std::chrono::milliseconds(200);  // nobody answers: it times out
    http_client client(options);
    http_endpoint endpoint{"127.0.0.1", listener->port};
    auto r = co_await client.send(
        endpoint, request_with("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, "
                                                "SignedHeaders=host;x-amz-date, Signature=abc"));
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::make_error_code(std::errc::timed_out)) << r.error().message();
    EXPECT_EQ(client.stats().connections_opened, 1u);
}

static io::task<void> smuggling_token_from_imds(imds_server* server) {
    imds_options imds;
    imds.endpoint = server->url();
    auto provider = imds_credentials_provider::create(imds);
    CO_ASSERT_RESULT(provider);
    auto listener = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listener.has_value());
    s3_client_options options;
    options.endpoint_host = "127.0.0.1";
    options.endpoint_port = listener->port;
    options.bucket = "b";
    options.retry.max_attempts = 1;
    s3_client client(options, *provider);
    auto put = co_await client.put_object("k", bytes_of("x"));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().message,
              "PutObject s3://b/k: request not sent: a header, the method or the target holds a control character");
    EXPECT_FALSE(put.error().transport) << "our own refusal, not the endpoint's failure";
    EXPECT_EQ(client.http().stats().connections_opened, 0u);
    EXPECT_EQ(server->credential_requests, 1);
}

CO_TEST(http_client_framing, a_session_token_with_cr_lf_from_imds_is_never_sent) {
    imds_server server;
    CO_ASSERT_TRUE(server.bind());
    // JSON's "\r\n" escapes: the parsed token holds a real CR LF.
    server.handed.session_token = "imds\\r\\nX-Smuggled: yes";
    co_await with_imds(&server, smuggling_token_from_imds(&server));
}

}  // namespace
}  // namespace tv::remote
