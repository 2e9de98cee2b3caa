// SPDX-License-Identifier: Apache-2.0
// A paced answer: with a response pacer, http_client reads the answer in the pacer's slices and
// pays for each, so a server that sends a whole body at once is still received at the pacer's
// rate, every byte counted once, the body intact; when the answer's size is known, the server
// cannot get a byte onto the link that was not paid for (the receive buffer is paid ahead).
#include "support/co_test.hh"
#include "support/loopback_listener.hh"

#include "io/ops.hh"
#include "remote/http_client.hh"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tv::remote {
namespace {

constexpr size_t body_size = 2 * 1024 * 1024;

/// A blocking one-thread server answering every GET with the same body as fast as the
/// connection takes it. With `send_buffer`, its sockets' send buffer is that small and it sends
/// in 4 KiB pieces, so `sent()` is within a send buffer of what the client's kernel has received.
class burst_server {
public:
    explicit burst_server(int send_buffer = 0) : _send_buffer(send_buffer) {
        for (size_t i = 0; i < body_size; ++i) {
            _body.push_back(static_cast<char>('a' + i * 7 % 26));
        }
        _thread = std::thread([this] { serve(); });
    }
    ~burst_server() {
        _done = true;
        _thread.join();
    }

    const std::string& body() const { return _body; }
    size_t sent() const { return _sent.load(); }
    /// The send buffer the kernel gave an accepted socket (twice what was asked).
    size_t send_buffer_bytes() const { return _send_buffer_bytes.load(); }
    /// The answer's length on the wire: what a pacer of the whole exchange is paid.
    size_t answer_size() const { return head().size() + _body.size(); }

    tv::testing::loopback_listener listener;
    const uint16_t& port = listener.port;

private:
    std::string head() const { return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_size) + "\r\n\r\n"; }

    void serve() {
        while (!_done) {
            int fd = listener.accept_within(50);
            if (fd < 0) {
                continue;
            }
            size_t piece = SIZE_MAX;
            if (_send_buffer > 0) {
                ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &_send_buffer, sizeof(_send_buffer));
                int bytes = 0;
                socklen_t length = sizeof(bytes);
                ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, &length);
                _send_buffer_bytes = static_cast<size_t>(bytes);
                piece = 4096;
            }
            tv::testing::read_request_head(fd);
            std::string answer = head() + _body;
            size_t sent = 0;
            while (sent < answer.size()) {
                ssize_t n = ::send(fd, answer.data() + sent, std::min(piece, answer.size() - sent), MSG_NOSIGNAL);
                if (n <= 0) {
                    break;
                }
                sent += static_cast<size_t>(n);
                _sent += static_cast<size_t>(n);
            }
            ::close(fd);
        }
    }

    int _send_buffer;
    std::string _body;
    std::atomic<size_t> _sent{0};
    std::atomic<size_t> _send_buffer_bytes{0};
    std::atomic<bool> _done{false};
    std::thread _thread;
};

/// What a pacer saw: every slice it was asked to pay for and, with a server to watch, the most
/// the server had sent beyond what was paid when a payment began.
struct pacer_log {
    std::vector<size_t> slices;
    const burst_server* watched = nullptr;
    int64_t most_unpaid_sent = 0;
    size_t total() const {
        size_t t = 0;
        for (size_t s : slices) {
            t += s;
        }
        return t;
    }
};

/// Pays `bytes_per_second` in real time; refuses after `refuse_after` bytes when given.
io::task<bool> pay(pacer_log* log, uint64_t bytes_per_second, size_t refuse_after, size_t n) {
    if (log->watched != nullptr) {
        auto unpaid = static_cast<int64_t>(log->watched->sent()) - static_cast<int64_t>(log->total());
        log->most_unpaid_sent = std::max(log->most_unpaid_sent, unpaid);
    }
    log->slices.push_back(n);
    if (log->total() > refuse_after) {
        co_return false;
    }
    co_await io::sleep(std::chrono::nanoseconds(static_cast<int64_t>(n * 1e9 / static_cast<double>(bytes_per_second))));
    co_return true;
}

body_pacer paced_at(pacer_log* log, uint64_t bytes_per_second, size_t refuse_after = SIZE_MAX) {
    body_pacer pacer;
    pacer.take = [log, bytes_per_second, refuse_after](size_t n) { return pay(log, bytes_per_second, refuse_after, n); };
    pacer.slice = 64 * 1024;
    pacer.allowance = std::chrono::seconds(10);
    return pacer;
}

/// Built outside the co_await: GCC 12 frees a braced temporary in a coroutine's arguments twice.
http_endpoint local_endpoint(uint16_t port) {
    http_endpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = port;
    return endpoint;
}

http_client_request get_request() {
    http_client_request r;
    r.method = "GET";
    r.target = "/bucket/key";
    return r;
}

CO_TEST(http_client_paced, an_answer_sent_at_once_is_received_at_the_pacers_rate_every_byte_paid_once) {
    burst_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    pacer_log log;
    constexpr uint64_t rate = 8 * 1024 * 1024;  // 2 MiB in about 250 ms
    auto request = get_request();
    request.response_pacer = paced_at(&log, rate);
    std::vector<std::byte> into(body_size);
    request.response_into = into;
    auto start = std::chrono::steady_clock::now();
    auto answer = co_await client.send(local_endpoint(server.port), request);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(answer.has_value()) << (answer ? std::string() : answer.error().message());
    CO_ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status, 200);
    CO_ASSERT_TRUE(answer->body_into_size.has_value());
    EXPECT_EQ(*answer->body_into_size, body_size);
    EXPECT_TRUE(std::string_view(reinterpret_cast<const char*>(into.data()), into.size()) == server.body())
        << "the body came back changed";
    EXPECT_EQ(log.total(), server.answer_size()) << "every byte of the answer is paid for exactly once";
    for (size_t s : log.slices) {
        EXPECT_LE(s, 64u * 1024) << "a read took more than the pacer's slice";
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    EXPECT_GE(ms, 230) << "2 MiB at 8 MiB/s came faster than the pacer allows";
    EXPECT_LT(ms, 2000);
}

CO_TEST(http_client_paced, with_the_size_known_the_link_carries_no_byte_that_was_not_paid_for) {
    burst_server server(16 * 1024);
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    pacer_log log;
    log.watched = &server;
    auto request = get_request();
    request.response_pacer = paced_at(&log, 8 * 1024 * 1024);
    request.response_pacer.expected = body_size;
    std::vector<std::byte> into(body_size);
    request.response_into = into;
    auto answer = co_await client.send(local_endpoint(server.port), request);
    CO_ASSERT_TRUE(answer.has_value());
    CO_ASSERT_TRUE(answer->body_into_size.has_value());
    EXPECT_EQ(*answer->body_into_size, body_size);
    EXPECT_TRUE(std::string_view(reinterpret_cast<const char*>(into.data()), into.size()) == server.body());
    EXPECT_EQ(log.total(), server.answer_size()) << "every byte of the answer is paid for exactly once";
    // What the server got out beyond the payments sits in its own send buffer, not in ours
    // (give or take the kernel's accounting of our small buffer: 32 KiB here, counted once
    // more); an autotuned receive buffer let it run 140 KB and more ahead.
    CO_ASSERT_NE(server.send_buffer_bytes(), 0u);
    constexpr int64_t our_buffer = 32 * 1024;
    EXPECT_LE(log.most_unpaid_sent, static_cast<int64_t>(server.send_buffer_bytes()) + our_buffer + 4096)
        << "the server sent bytes the pacer had not let through";
    // Its fixed receive buffer never serves an unpaced request: it is pooled apart.
    EXPECT_EQ(client.idle_connections(local_endpoint(server.port)), 0u);
}

CO_TEST(http_client_paced, a_body_read_through_the_parser_is_paced_too) {
    burst_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    pacer_log log;
    auto request = get_request();
    request.response_pacer = paced_at(&log, 16 * 1024 * 1024);
    auto answer = co_await client.send(local_endpoint(server.port), request);
    CO_ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(answer->body == server.body());
    EXPECT_EQ(log.total(), server.answer_size());
}

CO_TEST(http_client_paced, a_pacer_that_refuses_ends_the_request_as_cancelled) {
    burst_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    pacer_log log;
    auto request = get_request();
    request.response_pacer = paced_at(&log, 64 * 1024 * 1024, 512 * 1024);
    std::vector<std::byte> into(body_size);
    request.response_into = into;
    auto answer = co_await client.send(local_endpoint(server.port), request);
    CO_ASSERT_FALSE(answer.has_value());
    EXPECT_EQ(answer.error(), std::errc::operation_canceled);
    EXPECT_LT(log.total(), body_size) << "the answer was read on after the pacer refused";
}

}  // namespace
}  // namespace tv::remote
