// SPDX-License-Identifier: Apache-2.0
// TCP sockets: listening (synchronous set-up), connecting, and sending a whole buffer through
// the ring's operations.
#pragma once

#include "io/error.hh"
#include "io/ops.hh"
#include "io/task.hh"

#include <netinet/in.h>

#include <cstdint>
#include <span>
#include <stop_token>
#include <string>

namespace tv::io {

/// An owned socket descriptor, closed synchronously on destruction.
class socket_fd {
public:
    socket_fd() noexcept = default;
    explicit socket_fd(int fd) noexcept : _fd(fd) {}
    socket_fd(socket_fd&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
    socket_fd& operator=(socket_fd&& other) noexcept;
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd() { reset(); }

    int get() const noexcept { return _fd; }
    explicit operator bool() const noexcept { return _fd >= 0; }
    void reset() noexcept;

private:
    int _fd = -1;
};

/// An IPv4 or IPv6 literal and a port; for example "127.0.0.1", "::1", "0.0.0.0".
result<sockaddr_storage> parse_address(const std::string& host, uint16_t port, socklen_t& length);

struct listener {
    socket_fd fd;
    uint16_t port = 0;  // the bound port (useful when 0 was asked for)
};

/// Binds and listens (SO_REUSEADDR); port 0 picks a free port.
result<listener> listen_tcp(const std::string& host, uint16_t port, int backlog = 1024);

/// The peer's IP address as text ("127.0.0.1", "::1"), "unknown" when the socket has none.
std::string peer_address(int fd);

/// How a connection is set up before its handshake.
struct tcp_connect_options {
    /// > 0 fixes SO_RCVBUF (so the window the peer is offered never grows past it); 0 leaves the
    /// kernel's autotuning.
    int receive_buffer = 0;
    /// The congestion control this side sends with ("cubic", "bbr"); empty: the kernel's default.
    std::string congestion_control;
};

/// Connects to host:port (address literals only; name resolution lives in remote/).
task<result<socket_fd>> connect_tcp(std::string host, uint16_t port, std::stop_token stop,
                                    tcp_connect_options options);

/// The same with the kernel's defaults. Not a default argument: GCC 12 destroys a coroutine's
/// defaulted class-type argument twice when the caller is itself a coroutine.
task<result<socket_fd>> connect_tcp(std::string host, uint16_t port, std::stop_token stop = {});

/// Whether this process may connect with congestion control `name`: an error (ENOENT: not in
/// this kernel; EPERM: not in net.ipv4.tcp_allowed_congestion_control for an unprivileged
/// process) when not.
result<void> check_congestion_control(const std::string& name);

/// The congestion control a TCP socket sends with, empty when it cannot be read.
std::string congestion_control_of(int fd);

/// The socket's receive buffer as the kernel accounts it (SO_RCVBUF as read back: twice what
/// was set), 0 when it cannot be read: the most a peer can have sent that was not read yet.
size_t receive_buffer_bytes(int fd);

/// Sends all of `data`, continuing after partial sends.
task<result<void>> send_all(int fd, std::span<const std::byte> data, std::stop_token stop = {});

}  // namespace tv::io
