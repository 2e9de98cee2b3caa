// SPDX-License-Identifier: Apache-2.0
// What users read when an S3 endpoint fails: the store's own error (code and message, capped
// and printable) when it answered with an S3 error document, and only "could not reach
// endpoint E: connection failed" otherwise (a closed port, an HTML page, a non-HTTP banner), so
// that an endpoint property cannot tell what listens on a port; and stores opened after
// set_tcp_congestion_control connect with it. A canned HTTP server on the test's loop plays the
// store.
#include "unit/remote/credentials_test_util.hh"

#include "remote/repository.hh"

#include <gtest/gtest.h>

namespace tv::remote {
namespace {

using tv::testing::bytes_of;
using tv::testing::closed_port;

/// Answers every request with `answer` (an HTTP response), or with `raw` bytes when set.
struct canned_server {
    io::http_response answer;
    std::string raw;
    int requests = 0;
    io::listener listener;
    io::gate gate;
    std::stop_source stop;

    bool bind() {
        auto l = io::listen_tcp("127.0.0.1", 0);
        if (!l) {
            return false;
        }
        listener = std::move(*l);
        return true;
    }
    std::string url() const { return fmt::format("http://127.0.0.1:{}", listener.port); }
};

io::task<void> serve_canned(canned_server* server, io::socket_fd client) {
    std::string carry;
    auto request = co_await io::read_request(client.get(), carry, 64 * 1024, server->stop.get_token());
    if (!request || !*request) {
        co_return;
    }
    ++server->requests;
    std::string text = server->raw.empty() ? io::serialize(server->answer, false) : server->raw;
    if ((*request)->method == "HEAD" && server->raw.empty()) {
        text = text.substr(0, text.find("\r\n\r\n") + 4);  // HEAD: the head only
    }
    // One answer per connection, then close; a failed send shows in the client's error.
    auto sent = co_await io::send_all(client.get(), bytes_of(text));
    static_cast<void>(sent);
}

io::task<void> run_canned(canned_server* server) {
    for (;;) {
        auto fd = co_await io::accept(server->listener.fd.get(), server->stop.get_token());
        if (!fd) {
            break;
        }
        io::spawn(server->gate, serve_canned(server, io::socket_fd(*fd)), "canned S3 connection");
    }
    co_await server->gate.close();
}

io::task<void> stop_after(canned_server* server, io::task<void> scenario) {
    co_await std::move(scenario);
    server->stop.request_stop();
}

io::task<void> with_server(canned_server* server, io::task<void> scenario) {
    auto serving = run_canned(server);
    auto body = stop_after(server, std::move(scenario));
    co_await io::when_all(std::move(serving), std::move(body));
}

s3_client_options options_for(uint16_t port, std::string endpoint_text = {}) {
    s3_client_options options;
    options.endpoint_host = "127.0.0.1";
    options.endpoint_port = port;
    options.endpoint_text = std::move(endpoint_text);
    options.bucket = "b";
    options.retry.max_attempts = 1;
    options.http.request_timeout = std::chrono::milliseconds(2'000);
    return options;
}

io::task<remote_error> get_error(canned_server* server, std::string endpoint_text = {}) {
    s3_object_store store(options_for(server->listener.port, std::move(endpoint_text)),
                          aws_credentials{"AKID", "secret", ""});
    auto r = co_await store.get("k");
    co_return r ? remote_error{remote_errc::io_error, "unexpectedly found"} : r.error();
}

io::task<void> html_404(canned_server* server) {
    server->answer.status = 404;
    server->answer.content_type = "text/html";
    server->answer.body = "<html><body><Message>internal admin page</Message><Code>x</Code></body></html>";
    auto e = co_await get_error(server, "my-endpoint:9000");
    EXPECT_EQ(e.code, remote_errc::io_error) << "not a NoSuchKey: nothing says S3 answered";
    EXPECT_EQ(e.message, "could not reach endpoint my-endpoint:9000: connection failed");
    EXPECT_EQ(e.unreachable_endpoint, "my-endpoint:9000");
    EXPECT_EQ(server->requests, 1);
}

CO_TEST(s3_unreachable, an_error_status_without_an_s3_error_document_is_a_connection_failure) {
    canned_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_server(&server, html_404(&server));
}

io::task<void> banner(canned_server* server) {
    server->raw = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    auto e = co_await get_error(server);
    EXPECT_EQ(e.message, fmt::format("could not reach endpoint {}: connection failed", server->url()));
}

CO_TEST(s3_unreachable, a_non_http_answer_reads_the_same) {
    canned_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_server(&server, banner(&server));
}

CO_TEST(s3_unreachable, a_closed_port_reads_the_same) {
    uint16_t port = closed_port();
    s3_object_store store(options_for(port), aws_credentials{"AKID", "secret", ""});
    auto r = co_await store.get("k");
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, fmt::format("could not reach endpoint http://127.0.0.1:{}: connection failed", port));
}

io::task<void> s3_document(canned_server* server) {
    server->answer.status = 404;
    server->answer.content_type = "application/xml";
    server->answer.body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does "
                          "not exist.&#13;&#10;Injected: line</Message><RequestId>tx1</RequestId></Error>";
    auto e = co_await get_error(server);
    EXPECT_EQ(e.code, remote_errc::not_found);
    EXPECT_EQ(e.message, "GetObject s3://b/k: NoSuchKey (HTTP 404: The specified key does not exist.??Injected: line) "
                         "[request id tx1]");
    EXPECT_TRUE(e.unreachable_endpoint.empty());
    server->answer.status = 403;
    server->answer.body = "<Error><Code>AccessDenied</Code><Message>" + std::string(2000, 'm') + "</Message></Error>";
    auto denied = co_await get_error(server);
    EXPECT_EQ(denied.code, remote_errc::permission_denied);
    EXPECT_EQ(denied.message, "GetObject s3://b/k: AccessDenied (HTTP 403: " + std::string(512, 'm') + "...)")
        << "a store's message is capped";
}

CO_TEST(s3_unreachable, an_s3_error_document_is_kept_capped_and_printable) {
    canned_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_server(&server, s3_document(&server));
}

io::task<void> head_404(canned_server* server) {
    server->answer.status = 404;
    server->answer.body.clear();
    s3_object_store store(options_for(server->listener.port), aws_credentials{"AKID", "secret", ""});
    auto r = co_await store.head("k");
    CO_ASSERT_FALSE(r.has_value());
    // HEAD answers carry no body, so S3's own HEAD 404 cannot be told from another server's.
    EXPECT_EQ(r.error().code, remote_errc::not_found) << r.error().message;
}

CO_TEST(s3_unreachable, a_bodiless_head_404_stays_not_found) {
    canned_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_server(&server, head_404(&server));
}

io::task<void> ok_page(canned_server* server) {
    server->answer.status = 200;
    server->answer.content_type = "text/html";
    server->answer.body = "<html>internal dashboard</html>";
    s3_object_store store(options_for(server->listener.port, "http://dash:80"), aws_credentials{"AKID", "secret", ""});
    auto pinged = co_await ping_repository(store, "r", false, 0);
    CO_ASSERT_FALSE(pinged.has_value());
    EXPECT_EQ(pinged.error().message, "could not reach endpoint http://dash:80: connection failed");
    EXPECT_EQ(server->requests, 1) << "nothing is written over what answered";
}

CO_TEST(s3_unreachable, a_200_that_is_not_our_repo_info_reads_the_same) {
    canned_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_server(&server, ok_page(&server));
}

/// Puts the process-wide setting back however the test ends, so later tests connect as usual.
struct congestion_control_reset {
    ~congestion_control_reset() { set_tcp_congestion_control(""); }
};

io::task<void> congestion_control_of_new_stores(canned_server* server) {
    congestion_control_reset reset;
    server->answer.status = 200;
    server->answer.body = "k's bytes";
    auto config = parse_repository_config("s3://b/p", property_list{{"aws.s3.endpoint", server->url()},
                                                                    {"aws.s3.access_key", "AKID"},
                                                                    {"aws.s3.secret_key", "secret"}});
    CO_ASSERT_RESULT(config);
    // A name no kernel has fails every connection before a byte is sent: it reaches the socket.
    set_tcp_congestion_control("no-such-cc");
    auto refused = open_store(*config);
    CO_ASSERT_RESULT(refused);
    auto failed = co_await (*refused)->get("k");
    EXPECT_FALSE(failed.has_value());
    EXPECT_EQ(server->requests, 0);
    set_tcp_congestion_control("reno");
    auto store = open_store(*config);
    CO_ASSERT_RESULT(store);
    auto got = co_await (*store)->get("k");
    CO_ASSERT_RESULT(got);
    EXPECT_EQ(*got, "k's bytes");
    EXPECT_EQ(server->requests, 1);
}

CO_TEST(s3_unreachable, stores_opened_after_a_congestion_control_is_set_connect_with_it) {
    canned_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_server(&server, congestion_control_of_new_stores(&server));
}

}  // namespace
}  // namespace tv::remote
