// SPDX-License-Identifier: Apache-2.0
// When http_client sends a request again by itself: only on a reused keep-alive connection the
// server reset before answering anything (it closed the idle connection). A connection reset
// after part of an answer is the request's failure, returned to the caller (whose retries count
// it), never a silent second send: the first may have been acted on.
#include "support/co_test.hh"
#include "support/loopback_listener.hh"

#include "remote/http_client.hh"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

namespace tv::remote {
namespace {

/// How the scripted server ends the second request on the first connection.
enum class second_answer { half_then_reset, reset_without_answer };

/// A blocking one-thread server: on its first connection, answers one GET, then ends the
/// second request as scripted; any later connection gets whole answers. Counts requests.
class scripted_server {
public:
    explicit scripted_server(second_answer how) : _how(how) {
        _thread = std::thread([this] { serve(); });
    }
    ~scripted_server() {
        _done = true;
        _thread.join();
    }

    tv::testing::loopback_listener listener;
    const uint16_t& port = listener.port;
    std::atomic<int> requests{0};

private:
    static void send_text(int fd, std::string_view text) { ::send(fd, text.data(), text.size(), MSG_NOSIGNAL); }
    static void reset(int fd) {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        ::close(fd);
    }

    void serve() {
        constexpr std::string_view whole = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
        bool first = true;
        while (!_done) {
            int fd = listener.accept_within(50);
            if (fd < 0) {
                continue;
            }
            if (!first) {
                while (tv::testing::read_request_head(fd)) {
                    ++requests;
                    send_text(fd, whole);
                }
                ::close(fd);
                continue;
            }
            first = false;
            if (tv::testing::read_request_head(fd)) {
                ++requests;
                send_text(fd, whole);
            }
            if (_how == second_answer::reset_without_answer) {
                reset(fd);  // closed while idle: the client's next request meets a reset
                continue;
            }
            if (tv::testing::read_request_head(fd)) {
                ++requests;
                send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
            }
            reset(fd);
        }
    }

    second_answer _how;
    std::atomic<bool> _done{false};
    std::thread _thread;
};

http_client_request get_request() {
    http_client_request r;
    r.method = "GET";
    r.target = "/bucket/key";
    return r;
}

CO_TEST(http_client_resend, a_reset_after_part_of_the_answer_is_returned_not_sent_again) {
    scripted_server server(second_answer::half_then_reset);
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    auto first = co_await client.send(endpoint, get_request());
    EXPECT_TRUE(first.has_value()) << (first ? std::string() : first.error().message());
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->body, "0123456789");
    auto second = co_await client.send(endpoint, get_request());
    EXPECT_FALSE(second.has_value()) << "a half answer was taken as whole";
    EXPECT_EQ(server.requests.load(), 2) << "the half-answered request was sent again";
    EXPECT_EQ(client.stats().connections_reused, 1u);
}

CO_TEST(http_client_resend, a_reused_connection_reset_before_any_answer_is_sent_again_on_a_fresh_one) {
    scripted_server server(second_answer::reset_without_answer);
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    auto first = co_await client.send(endpoint, get_request());
    EXPECT_TRUE(first.has_value()) << (first ? std::string() : first.error().message());
    CO_ASSERT_TRUE(first.has_value());
    // Give the reset time to arrive, so the pooled connection is stale when it is taken.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto second = co_await client.send(endpoint, get_request());
    EXPECT_TRUE(second.has_value()) << (second ? std::string() : second.error().message());
    CO_ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->body, "0123456789");
    EXPECT_EQ(server.requests.load(), 2);
    EXPECT_EQ(client.stats().connections_opened, 2u);
}

}  // namespace
}  // namespace tv::remote
