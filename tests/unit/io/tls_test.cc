// SPDX-License-Identifier: Apache-2.0
// tls_stream against a real TLS server: stunnel4 with a throw-away CA, in front of an echo
// server. Bytes round-trip, certificates and names are checked, failures read plainly.
#include "io/socket.hh"
#include "io/tls.hh"
#include "support/co_test.hh"
#include "support/tls_terminator.hh"

#include <sys/socket.h>

#include <array>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

namespace io = tv::io;
using tv::testing::tls_terminator;

namespace {

/// A blocking echo server on its own threads, for the whole run: stunnel forwards to it.
uint16_t start_echo_server() {
    auto listening = io::listen_tcp("127.0.0.1", 0);
    if (!listening) {
        return 0;
    }
    uint16_t port = listening->port;
    std::thread([fd = std::move(listening->fd)] {
        for (;;) {
            int client = ::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) {
                return;
            }
            std::thread([client] {
                char buffer[16384];
                for (;;) {
                    ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
                    if (n <= 0 || ::send(client, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
                        break;
                    }
                }
                ::close(client);
            }).detach();
        }
    }).detach();
    return port;
}

struct tls_env {
    tv::testing::temp_dir dir;
    tv::testing::test_pki pki;
    tls_terminator tls;
    std::string skip_reason;
};

tls_env& env() {
    static std::unique_ptr<tls_env> e = [] {
        auto made = std::make_unique<tls_env>();
        made->pki = tv::testing::make_test_pki(made->dir.path());
        uint16_t echo_port = start_echo_server();
        made->skip_reason = echo_port == 0 ? "cannot listen on 127.0.0.1"
                                           : made->tls.start(made->pki, made->dir.path(), echo_port);
        return made;
    }();
    return *e;
}

#define REQUIRE_TLS_ENV()                         \
    do {                                          \
        if (!env().skip_reason.empty()) {         \
            CO_SKIP(env().skip_reason);           \
        }                                         \
    } while (0)

std::string pattern(size_t size) {
    std::string s(size, '\0');
    uint32_t x = 12345;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

/// A TCP connection to the terminator plus the TLS session over it.
struct session {
    io::socket_fd fd;
    std::unique_ptr<io::tls_stream> tls;
};

io::task<io::result<session>> open_session(uint16_t port, io::tls_client_options options) {
    auto fd = co_await io::connect_tcp("127.0.0.1", port);
    if (!fd) {
        co_return fd.error();
    }
    session s;
    s.fd = std::move(*fd);
    auto tls = co_await io::tls_stream::connect(s.fd.get(), std::move(options));
    if (!tls) {
        co_return tls.error();
    }
    s.tls = std::move(*tls);
    co_return std::move(s);
}

io::tls_client_options trusted(std::string name) {
    io::tls_client_options options;
    options.server_name = std::move(name);
    options.ca_file = env().pki.ca_file;
    return options;
}

/// Reads exactly `size` bytes.
io::task<io::result<std::string>> read_exactly(io::stream& stream, size_t size) {
    std::string out(size, '\0');
    size_t got = 0;
    while (got < size) {
        auto n = co_await stream.read_some(std::as_writable_bytes(std::span(out)).subspan(got));
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return std::make_error_code(std::errc::bad_message);
        }
        got += *n;
    }
    co_return out;
}

}  // namespace

CO_TEST(tls_stream, a_megabyte_round_trips_through_tls) {
    REQUIRE_TLS_ENV();
    auto s = co_await open_session(env().tls.port, trusted("127.0.0.1"));
    CO_ASSERT_OK(s);
    EXPECT_EQ(s->tls->protocol(), "TLSv1.3");
    // Larger than one TLS record and than one SSL_write chunk; the echo comes back in pieces.
    std::string message = pattern(1024 * 1024 + 17);
    auto sent = co_await s->tls->write_all(std::as_bytes(std::span(message)));
    CO_ASSERT_OK(sent);
    auto back = co_await read_exactly(*s->tls, message.size());
    CO_ASSERT_OK(back);
    EXPECT_TRUE(*back == message) << "the echo differs from what was sent";
}

CO_TEST(tls_stream, a_dns_name_in_the_certificate_is_accepted) {
    REQUIRE_TLS_ENV();
    auto s = co_await open_session(env().tls.port, trusted("localhost"));
    CO_ASSERT_OK(s);
    std::string message = "hello";
    CO_ASSERT_OK(co_await s->tls->write_all(std::as_bytes(std::span(message))));
    auto back = co_await read_exactly(*s->tls, message.size());
    CO_ASSERT_OK(back);
    EXPECT_EQ(*back, message);
}

CO_TEST(tls_stream, an_unknown_ca_fails_the_handshake) {
    REQUIRE_TLS_ENV();
    io::tls_client_options options;
    options.server_name = "127.0.0.1";  // the system store does not know the test CA
    auto s = co_await open_session(env().tls.port, options);
    CO_ASSERT_FALSE(s.has_value());
    EXPECT_TRUE(io::is_tls_handshake_error(s.error()));
    EXPECT_EQ(s.error().message(),
              "TLS handshake failed: certificate verify failed (unable to get local issuer certificate)");
    EXPECT_EQ(io::tls_error_reason(s.error()), "certificate verify failed (unable to get local issuer certificate)");
}

CO_TEST(tls_stream, a_certificate_for_another_name_fails_the_handshake) {
    REQUIRE_TLS_ENV();
    auto by_name = co_await open_session(env().tls.other_name_port, trusted("localhost"));
    CO_ASSERT_FALSE(by_name.has_value());
    EXPECT_EQ(by_name.error().message(), "TLS handshake failed: certificate verify failed (hostname mismatch)");
    auto by_address = co_await open_session(env().tls.other_name_port, trusted("127.0.0.1"));
    CO_ASSERT_FALSE(by_address.has_value());
    EXPECT_EQ(by_address.error().message(), "TLS handshake failed: certificate verify failed (IP address mismatch)");
    // The name the certificate does carry passes: the mismatch was the only fault.
    auto right = co_await open_session(env().tls.other_name_port, trusted("other.example"));
    CO_ASSERT_OK(right);
}

CO_TEST(tls_stream, verification_off_accepts_any_certificate) {
    REQUIRE_TLS_ENV();
    io::tls_client_options options;
    options.server_name = "localhost";
    options.verify = false;  // neither the CA nor the name would pass
    auto s = co_await open_session(env().tls.other_name_port, options);
    CO_ASSERT_OK(s);
    std::string message = "unverified";
    CO_ASSERT_OK(co_await s->tls->write_all(std::as_bytes(std::span(message))));
    auto back = co_await read_exactly(*s->tls, message.size());
    CO_ASSERT_OK(back);
    EXPECT_EQ(*back, message);
}

CO_TEST(tls_stream, a_stopped_read_leaves_the_session_usable) {
    REQUIRE_TLS_ENV();
    auto s = co_await open_session(env().tls.port, trusted("127.0.0.1"));
    CO_ASSERT_OK(s);
    std::stop_source stop;
    stop.request_stop();
    std::array<std::byte, 64> buffer;
    auto stopped = co_await s->tls->read_some(buffer, stop.get_token());
    CO_ASSERT_FALSE(stopped.has_value());
    EXPECT_EQ(stopped.error(), std::errc::operation_canceled);
    std::string message = "still in step";
    CO_ASSERT_OK(co_await s->tls->write_all(std::as_bytes(std::span(message))));
    auto back = co_await read_exactly(*s->tls, message.size());
    CO_ASSERT_OK(back);
    EXPECT_EQ(*back, message);
}

CO_TEST(tls_stream, close_notify_both_ways_ends_the_stream_cleanly) {
    REQUIRE_TLS_ENV();
    auto s = co_await open_session(env().tls.port, trusted("127.0.0.1"));
    CO_ASSERT_OK(s);
    CO_ASSERT_OK(co_await s->tls->shutdown());
    // stunnel answers our close_notify with its own: a clean end, not a truncation.
    std::array<std::byte, 64> buffer;
    auto end = co_await s->tls->read_some(buffer);
    CO_ASSERT_OK(end);
    EXPECT_EQ(*end, 0u);
}

CO_TEST(tls_stream, a_peer_that_closes_during_the_handshake_is_a_reset) {
    auto listening = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listening.has_value());
    auto fd = co_await io::connect_tcp("127.0.0.1", listening->port);
    CO_ASSERT_OK(fd);
    listening->fd.reset();  // the queued connection is dropped unanswered
    io::tls_client_options options;
    options.server_name = "127.0.0.1";
    options.verify = false;
    auto tls = co_await io::tls_stream::connect(fd->get(), options);
    CO_ASSERT_FALSE(tls.has_value());
    EXPECT_EQ(tls.error(), std::errc::connection_reset);
}

TEST(tls_context, unusable_ca_files_are_clear_errors) {
    auto missing = io::tls_context::get("/nonexistent/ca.pem", true);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
    tv::testing::temp_dir dir;
    std::ofstream(dir.file("junk.pem")) << "not a certificate\n";
    auto junk = io::tls_context::get(dir.file("junk.pem"), true);
    ASSERT_FALSE(junk.has_value());
    EXPECT_TRUE(io::is_tls_error(junk.error()));
    EXPECT_FALSE(io::is_tls_handshake_error(junk.error()));
    EXPECT_EQ(junk.error().message(), "TLS: no certificate or crl found");
}

TEST(tls_context, one_context_per_configuration) {
    auto a = io::tls_context::get("", true);
    auto b = io::tls_context::get("", true);
    auto c = io::tls_context::get("", false);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->get(), b->get());
    EXPECT_NE(a->get(), c->get());
    EXPECT_FALSE((*c)->verify());
}
