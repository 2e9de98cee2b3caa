// SPDX-License-Identifier: Apache-2.0
// The plain-socket side of HTTP client tests that script a server by hand: a listening socket
// on 127.0.0.1 with a port the kernel chose, and reading one request's head off a connection.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace tv::testing {

/// Listens on 127.0.0.1; `port` stays 0 when that failed (tests assert it is not).
class loopback_listener {
public:
    loopback_listener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && ::listen(fd, 8) == 0) {
            socklen_t len = sizeof(addr);
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
            port = ntohs(addr.sin_port);
        }
    }
    ~loopback_listener() { ::close(fd); }
    loopback_listener(const loopback_listener&) = delete;
    loopback_listener& operator=(const loopback_listener&) = delete;

    /// A connection that came within `wait_ms`, or -1 (none came, or accept failed): a test
    /// server's loop polls with it so that it can see its stop flag between waits.
    int accept_within(int wait_ms) const {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, wait_ms) <= 0) {
            return -1;
        }
        return ::accept(fd, nullptr, nullptr);
    }

    int fd = -1;
    uint16_t port = 0;
};

/// Reads from `fd` up to the end of a request's head; false when the peer closed or failed first.
inline bool read_request_head(int fd) {
    std::string got;
    char chunk[512];
    while (got.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) {
            return false;
        }
        got.append(chunk, static_cast<size_t>(n));
    }
    return true;
}

}  // namespace tv::testing
