// SPDX-License-Identifier: Apache-2.0
// TCP through the ring: an echo server on loop 0 and 100 concurrent clients on another loop.
#include "io/gate.hh"
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "io/sync_wait.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <string>

using namespace std::chrono_literals;
namespace io = tv::io;

namespace {

io::task<void> echo_connection(io::socket_fd fd, std::stop_token stop) {
    std::array<std::byte, 8192> buffer;
    for (;;) {
        auto n = co_await io::recv(fd.get(), buffer, stop);
        if (!n || *n == 0) {
            co_return;
        }
        if (!co_await io::send_all(fd.get(), std::span(buffer).first(*n), stop)) {
            co_return;
        }
    }
}

io::task<void> echo_server(int listen_fd, io::gate& connections, std::stop_token stop) {
    for (;;) {
        auto fd = co_await io::accept(listen_fd, stop);
        if (!fd) {
            co_return;  // cancelled at shutdown
        }
        io::spawn(connections, echo_connection(io::socket_fd(*fd), stop), "echo");
    }
}

/// Sends `rounds` messages of growing size and checks each echo byte for byte.
io::task<int> echo_client(uint16_t port, int id, int rounds) {
    auto fd = co_await io::connect_tcp("127.0.0.1", port);
    if (!fd) {
        ADD_FAILURE() << "connect: " << fd.error().message();
        co_return 0;
    }
    for (int r = 0; r < rounds; ++r) {
        std::string message(1 + (id * 37 + r * 101) % 20000, static_cast<char>('a' + (id + r) % 26));
        auto sent = co_await io::send_all(fd->get(), std::as_bytes(std::span(message)));
        if (!sent) {
            co_return 0;
        }
        std::string back(message.size(), '\0');
        size_t got = 0;
        while (got < back.size()) {
            auto n = co_await io::recv(fd->get(), std::as_writable_bytes(std::span(back)).subspan(got));
            if (!n || *n == 0) {
                co_return 0;
            }
            got += *n;
        }
        if (back != message) {
            co_return 0;
        }
    }
    co_return 1;
}

}  // namespace

TEST(socket, tcp_echo_with_100_concurrent_clients) {
    io::loop_group loops(2);
    auto listening = io::listen_tcp("127.0.0.1", 0);
    ASSERT_TRUE(listening.has_value()) << listening.error().message();
    const uint16_t port = listening->port;
    auto body = [&]() -> io::task<void> {
        io::gate connections;
        std::stop_source stop;
        io::spawn(connections, echo_server(listening->fd.get(), connections, stop.get_token()), "echo server");
        std::vector<io::task<int>> clients;
        for (int id = 0; id < 100; ++id) {
            clients.push_back(io::submit_to(loops.at(1), echo_client(port, id, 20)));
        }
        auto ok = co_await io::when_all(std::move(clients));
        EXPECT_EQ(std::count(ok.begin(), ok.end(), 1), 100);
        stop.request_stop();
        co_await connections.close();
    };
    io::sync_wait(loops.main_loop(), body());
}

CO_TEST(socket, connect_refused_is_a_clear_error) {
    auto listening = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listening.has_value());
    uint16_t port = listening->port;
    listening->fd.reset();  // nobody listens there any more
    auto fd = co_await io::connect_tcp("127.0.0.1", port);
    CO_ASSERT_FALSE(fd.has_value());
    EXPECT_EQ(fd.error(), std::errc::connection_refused);
    auto bad = co_await io::connect_tcp("not-an-address", 1);
    EXPECT_EQ(bad.error(), std::errc::invalid_argument);
}

CO_TEST(socket, a_connection_sends_with_the_congestion_control_asked_for) {
    auto listening = io::listen_tcp("127.0.0.1", 0);
    CO_ASSERT_TRUE(listening.has_value());
    // reno is built into every Linux kernel; cubic is this one's usual default.
    for (std::string name : {"reno", "cubic"}) {
        if (name == "cubic" && !io::check_congestion_control(name)) {
            continue;  // a kernel built without cubic: reno alone proves the option
        }
        io::tcp_connect_options options;
        options.congestion_control = name;
        auto fd = co_await io::connect_tcp("127.0.0.1", listening->port, {}, options);
        CO_ASSERT_TRUE(fd.has_value());
        EXPECT_EQ(io::congestion_control_of(fd->get()), name);
    }
    auto plain = co_await io::connect_tcp("127.0.0.1", listening->port);
    CO_ASSERT_TRUE(plain.has_value());
    EXPECT_FALSE(io::congestion_control_of(plain->get()).empty());

    EXPECT_TRUE(io::check_congestion_control("reno").has_value());
    auto unknown = io::check_congestion_control("no-such-cc");
    CO_ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error(), std::errc::no_such_file_or_directory);
    io::tcp_connect_options bad;
    bad.congestion_control = "no-such-cc";
    auto refused = co_await io::connect_tcp("127.0.0.1", listening->port, {}, bad);
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), std::errc::no_such_file_or_directory);
}

CO_TEST(socket, send_to_a_closed_peer_is_epipe_not_sigpipe) {
    int fds[2];
    CO_ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ::close(fds[1]);
    std::string data(1000, 'x');
    auto r = co_await io::send_all(fds[0], std::as_bytes(std::span(data)));
    ::close(fds[0]);
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::broken_pipe);
}
