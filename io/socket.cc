// SPDX-License-Identifier: Apache-2.0
// Socket set-up (options before the handshake: receive buffer, congestion control) and
// whole-buffer sends.
#include "io/socket.hh"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace tv::io {

socket_fd& socket_fd::operator=(socket_fd&& other) noexcept {
    if (this != &other) {
        reset();
        _fd = std::exchange(other._fd, -1);
    }
    return *this;
}

void socket_fd::reset() noexcept {
    if (_fd >= 0) {
        ::close(std::exchange(_fd, -1));
    }
}

result<sockaddr_storage> parse_address(const std::string& host, uint16_t port, socklen_t& length) {
    sockaddr_storage storage{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        length = sizeof(sockaddr_in);
        return storage;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        length = sizeof(sockaddr_in6);
        return storage;
    }
    return errno_error(EINVAL);
}

namespace {

/// A TCP socket of the right family for host:port, and the parsed address.
struct tcp_endpoint {
    socket_fd fd;
    sockaddr_storage address{};
    socklen_t length = 0;
};

result<void> set_congestion_control(int fd, const std::string& name) {
    if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name.data(), static_cast<socklen_t>(name.size())) < 0) {
        return errno_error(errno);
    }
    return {};
}

result<tcp_endpoint> make_tcp_socket(const std::string& host, uint16_t port) {
    tcp_endpoint endpoint;
    auto addr = parse_address(host, port, endpoint.length);
    if (!addr) {
        return addr.error();
    }
    endpoint.address = *addr;
    endpoint.fd = socket_fd(::socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!endpoint.fd) {
        return errno_error(errno);
    }
    return endpoint;
}

}  // namespace

result<listener> listen_tcp(const std::string& host, uint16_t port, int backlog) {
    auto endpoint = make_tcp_socket(host, port);
    if (!endpoint) {
        return endpoint.error();
    }
    socket_fd& fd = endpoint->fd;
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&endpoint->address), endpoint->length) < 0 ||
        ::listen(fd.get(), backlog) < 0) {
        return errno_error(errno);
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length);
    uint16_t bound_port = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    return listener{std::move(fd), bound_port};
}

task<result<socket_fd>> connect_tcp(std::string host, uint16_t port, std::stop_token stop,
                                    tcp_connect_options options) {
    auto endpoint = make_tcp_socket(host, port);
    if (!endpoint) {
        co_return endpoint.error();
    }
    int one = 1;
    ::setsockopt(endpoint->fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const int receive_buffer = options.receive_buffer;
    if (receive_buffer > 0 &&
        ::setsockopt(endpoint->fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer)) < 0) {
        co_return errno_error(errno);
    }
    if (!options.congestion_control.empty()) {
        if (auto set = set_congestion_control(endpoint->fd.get(), options.congestion_control); !set) {
            co_return set.error();
        }
    }
    auto connected = co_await connect(endpoint->fd.get(), endpoint->address, endpoint->length, std::move(stop));
    if (!connected) {
        co_return connected.error();
    }
    co_return std::move(endpoint->fd);
}

task<result<socket_fd>> connect_tcp(std::string host, uint16_t port, std::stop_token stop) {
    return connect_tcp(std::move(host), port, std::move(stop), tcp_connect_options());
}

task<result<void>> send_all(int fd, std::span<const std::byte> data, std::stop_token stop) {
    while (!data.empty()) {
        auto n = co_await send(fd, data, stop);
        if (!n) {
            co_return n.error();
        }
        data = data.subspan(*n);
    }
    co_return result<void>{};
}

result<void> check_congestion_control(const std::string& name) {
    socket_fd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe) {
        return errno_error(errno);
    }
    return set_congestion_control(probe.get(), name);
}

std::string congestion_control_of(int fd) {
    char name[16] = {};  // the kernel's TCP_CA_NAME_MAX
    socklen_t length = sizeof(name);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &length) != 0) {
        return {};
    }
    return std::string(name, ::strnlen(name, length));
}

size_t receive_buffer_bytes(int fd) {
    int bytes = 0;
    socklen_t length = sizeof(bytes);
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, &length) != 0 || bytes < 0) {
        return 0;
    }
    return static_cast<size_t>(bytes);
}

std::string peer_address(int fd) {
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        return "unknown";
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof(text));
    } else {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof(text));
    }
    return text;
}

}  // namespace tv::io
