// SPDX-License-Identifier: Apache-2.0
// peer_deadline: an armed deadline cancels what waits on the peer, a disarmed one never fires,
// and moving the deadline earlier wakes a timer that was sleeping towards a later one.
#include "io/gate.hh"
#include "io/ops.hh"
#include "server/http_connection.hh"
#include "support/co_test.hh"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>

namespace io = tv::io;
using namespace std::chrono_literals;

namespace {

struct socket_pair {
    int fds[2] = {-1, -1};
    socket_pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
    ~socket_pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

}  // namespace

CO_TEST(peer_deadline, an_armed_deadline_cancels_a_read_from_a_silent_peer) {
    socket_pair peer;
    tv::server::peer_deadline deadline({});
    io::gate timer;
    io::spawn(timer, deadline.run(), "deadline");
    deadline.arm(100ms);
    std::array<std::byte, 16> buf;
    auto n = co_await io::recv(peer.fds[0], buf, deadline.token());
    EXPECT_FALSE(n.has_value());
    if (!n) {
        EXPECT_TRUE(io::is_cancelled(n.error())) << n.error().message();
    }
    EXPECT_TRUE(deadline.expired());
    deadline.close();
    co_await timer.close();
}

CO_TEST(peer_deadline, disarmed_it_does_not_fire_and_an_earlier_deadline_wakes_the_timer) {
    tv::server::peer_deadline deadline({});
    io::gate timer;
    io::spawn(timer, deadline.run(), "deadline");
    deadline.arm(10ms);
    deadline.disarm();  // the server works: the peer's deadline does not run
    auto idle = co_await io::sleep(200ms, deadline.token());
    EXPECT_TRUE(idle.has_value());
    EXPECT_FALSE(deadline.expired());

    // The timer now sleeps towards an hour away; a shorter deadline must still fire on time
    // (the sleep below would otherwise complete).
    deadline.arm(1h);
    auto settled = co_await io::sleep(50ms);
    (void)settled;
    deadline.arm(100ms);
    auto waited = co_await io::sleep(5s, deadline.token());
    EXPECT_FALSE(waited.has_value());
    EXPECT_TRUE(deadline.expired());
    deadline.close();
    co_await timer.close();
}

CO_TEST(peer_deadline, the_server_stopping_cancels_without_expiring) {
    std::stop_source server;
    tv::server::peer_deadline deadline(server.get_token());
    io::gate timer;
    io::spawn(timer, deadline.run(), "deadline");
    deadline.arm(1h);
    server.request_stop();
    EXPECT_TRUE(deadline.token().stop_requested());
    EXPECT_FALSE(deadline.expired());
    deadline.close();
    co_await timer.close();
}
