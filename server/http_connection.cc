// SPDX-License-Identifier: Apache-2.0
// peer_deadline's timer and the lingering close of a refused HTTP connection.
#include "server/http_connection.hh"

#include "io/ops.hh"

#include <sys/socket.h>

#include <array>
#include <cstddef>

namespace tv::server {

namespace {

constexpr std::chrono::milliseconds k_linger_time{2'000};
constexpr uint64_t k_linger_bytes = 16 << 20;
// The timer's sleep while disarmed: any arm() that needs an earlier wake-up cancels it.
constexpr std::chrono::hours k_disarmed_sleep{1};

}  // namespace

peer_deadline::peer_deadline(std::stop_token server_stop)
    : _follow_server(std::move(server_stop), forward_stop{&_expire}) {}

void peer_deadline::arm(std::chrono::milliseconds timeout) {
    _armed = true;
    _deadline = clock::now() + timeout;
    if (_deadline < _sleeping_until) {
        _wake.request_stop();  // the timer sleeps past the new deadline: let it look again
    }
}

void peer_deadline::close() {
    _closed = true;
    _wake.request_stop();
}

io::task<void> peer_deadline::run() {
    while (!_closed) {
        auto now = clock::now();
        if (_armed && now >= _deadline) {
            _expired = true;
            _expire.request_stop();
            co_return;
        }
        std::chrono::nanoseconds wait = _armed ? std::chrono::nanoseconds(_deadline - now)
                                               : std::chrono::nanoseconds(k_disarmed_sleep);
        _sleeping_until = now + wait;
        std::stop_token wake = _wake.get_token();
        // Bound to a local: GCC 12 miscompiles `if (co_await ...)`.
        auto slept = co_await io::sleep(wait, wake);
        if (!slept) {
            _wake = std::stop_source{};  // woken early: a fresh source for the next wake-up
        }
    }
}

io::task<void> linger_close(int fd, peer_deadline& deadline) {
    if (deadline.token().stop_requested()) {
        co_return;  // the peer was too slow already, or the server is stopping
    }
    auto shut = co_await io::shutdown(fd, SHUT_WR);
    if (!shut) {
        co_return;
    }
    deadline.arm(k_linger_time);
    std::array<std::byte, 16 * 1024> sink;
    uint64_t dropped = 0;
    while (dropped < k_linger_bytes) {
        auto n = co_await io::recv(fd, sink, deadline.token());
        if (!n || *n == 0) {
            break;
        }
        dropped += *n;
    }
}

}  // namespace tv::server
