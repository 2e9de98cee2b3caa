// SPDX-License-Identifier: Apache-2.0
// MySQL wire level: integer and string encodings, packet framing over a real socket (splitting
// and joining 16 MiB pieces, sequence ids, oversized and truncated packets), and the handshake.
#include "sql/protocol/mysql_messages.hh"
#include "sql/protocol/mysql_wire.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace mysql = tv::sql::mysql;
namespace io = tv::io;

namespace {

struct socket_pair {
    int fds[2] = {-1, -1};
    socket_pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
    ~socket_pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

std::string frame(std::string_view payload, uint8_t sequence) {
    std::string out;
    out.push_back(static_cast<char>(payload.size() & 0xff));
    out.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
    out.push_back(static_cast<char>((payload.size() >> 16) & 0xff));
    out.push_back(static_cast<char>(sequence));
    out.append(payload);
    return out;
}

}  // namespace

TEST(mysql_wire, length_encoded_integers_round_trip_at_every_boundary) {
    for (uint64_t v : {0ull, 250ull, 251ull, 65535ull, 65536ull, 16777215ull, 16777216ull, ~0ull}) {
        mysql::payload_builder b;
        b.lenenc_int(v);
        mysql::payload_parser p(b.bytes());
        EXPECT_EQ(p.lenenc_int(), v);
        EXPECT_TRUE(p.at_end());
        EXPECT_FALSE(p.failed());
    }
    mysql::payload_builder b;
    b.lenenc_int(251);
    EXPECT_EQ(b.bytes(), std::string("\xfc\xfb\x00", 3)) << "251 needs the 2-byte form: 0xfb is NULL";
}

TEST(mysql_wire, parser_flags_truncation_instead_of_reading_past_the_end) {
    mysql::payload_parser p(std::string_view("\x05" "ab", 3));
    EXPECT_EQ(p.lenenc_str(), "");
    EXPECT_TRUE(p.failed());
    mysql::payload_parser q(std::string_view("abc", 3));
    EXPECT_EQ(q.nul_str(), "");
    EXPECT_TRUE(q.failed()) << "a string without its NUL is malformed";
}

CO_TEST(mysql_wire, packets_are_framed_split_and_joined) {
    socket_pair sp;
    mysql::packet_stream writer(sp.fds[0], 64u << 20);
    mysql::packet_stream reader(sp.fds[1], 64u << 20);
    const std::string small = "hello";
    const std::string exact(mysql::max_piece, 'x');          // needs an empty trailing packet
    const std::string large(mysql::max_piece + 10, 'y');     // two pieces
    writer.queue(small);
    writer.queue(exact);
    writer.queue(large);
    auto send = [&]() -> io::task<void> { CO_ASSERT_OK(co_await writer.flush({})); };
    auto receive = [&]() -> io::task<void> {
        for (const std::string* want : {&small, &exact, &large}) {
            auto got = co_await reader.read({});
            CO_ASSERT_OK(got);
            CO_ASSERT_TRUE(got->has_value());
            EXPECT_EQ((*got)->size(), want->size());
            EXPECT_TRUE(**got == *want);
        }
    };
    co_await io::when_all(send(), receive());
}

CO_TEST(mysql_wire, oversized_out_of_order_and_truncated_packets_are_errors) {
    {
        socket_pair sp;
        mysql::packet_stream reader(sp.fds[1], 1024);
        std::string big = frame(std::string(2000, 'z'), 0);
        CO_ASSERT_EQ(::write(sp.fds[0], big.data(), big.size()), static_cast<ssize_t>(big.size()));
        auto got = co_await reader.read({});
        CO_ASSERT_FALSE(got.has_value());
        EXPECT_EQ(got.error(), std::errc::message_size);
    }
    {
        socket_pair sp;
        mysql::packet_stream reader(sp.fds[1], 1024);
        std::string wrong = frame("abc", 5);
        CO_ASSERT_EQ(::write(sp.fds[0], wrong.data(), wrong.size()), 7);
        auto got = co_await reader.read({});
        CO_ASSERT_FALSE(got.has_value());
        EXPECT_EQ(got.error(), std::errc::bad_message) << "sequence id 5 where 0 was due";
    }
    {
        socket_pair sp;
        mysql::packet_stream reader(sp.fds[1], 1024);
        std::string cut = frame("abcdef", 0).substr(0, 6);
        CO_ASSERT_EQ(::write(sp.fds[0], cut.data(), cut.size()), 6);
        ::shutdown(sp.fds[0], SHUT_WR);
        auto got = co_await reader.read({});
        CO_ASSERT_FALSE(got.has_value());
        EXPECT_EQ(got.error(), std::errc::bad_message) << "the client vanished mid-packet";
    }
    {
        socket_pair sp;
        mysql::packet_stream reader(sp.fds[1], 1024);
        ::shutdown(sp.fds[0], SHUT_WR);
        auto got = co_await reader.read({});
        CO_ASSERT_OK(got);
        EXPECT_FALSE(got->has_value()) << "a close between packets is a clean end";
    }
}

TEST(mysql_messages, handshake_response_as_a_client_sends_it) {
    // What mysql/mariadb clients send: 4.1 protocol, lenenc auth data, a database and a plugin.
    const uint32_t caps = mysql::client_protocol_41 | mysql::client_secure_connection |
                          mysql::client_plugin_auth | mysql::client_plugin_auth_lenenc_data |
                          mysql::client_connect_with_db;
    mysql::payload_builder b;
    b.u32(caps).u32(16u << 20).u8(45).zeros(23).nul_str("root").lenenc_str(std::string(20, '\x07'));
    b.nul_str("db1").nul_str("caching_sha2_password");
    auto r = mysql::parse_handshake_response(b.bytes());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->user, "root");
    EXPECT_EQ(r->auth_response, std::string(20, '\x07'));
    EXPECT_EQ(r->database, "db1");
    EXPECT_EQ(r->plugin, "caching_sha2_password");
    EXPECT_FALSE(mysql::parse_handshake_response(b.bytes().substr(0, 40)).has_value()) << "truncated";
    mysql::payload_builder old;
    old.u32(0).u32(0).u8(8);
    EXPECT_FALSE(mysql::parse_handshake_response(old.bytes()).has_value()) << "pre-4.1 clients are refused";
}

TEST(mysql_messages, handshake_and_error_layout) {
    const std::string scramble = "abcdefghijklmnopqrst";
    auto h = mysql::handshake_v10(42, scramble, "8.0.33");
    mysql::payload_parser p(h);
    EXPECT_EQ(p.u8(), 10);
    EXPECT_EQ(p.nul_str(), "8.0.33");
    EXPECT_EQ(p.u32(), 42u);
    EXPECT_EQ(p.fixed(8), "abcdefgh");
    EXPECT_EQ(p.u8(), 0);
    p.fixed(2 + 1 + 2 + 2);
    EXPECT_EQ(p.u8(), 21);
    p.fixed(10);
    EXPECT_EQ(p.fixed(12), "ijklmnopqrst");
    EXPECT_EQ(p.u8(), 0);
    EXPECT_EQ(p.nul_str(), "mysql_native_password");

    auto e = mysql::err_packet(tv::sql::make_error(tv::sql::errc::bad_db, "Unknown database '{}'", "x"));
    EXPECT_EQ(e, std::string("\xff\x19\x04#42000Unknown database 'x'", 3 + 1 + 5 + 20));
}
