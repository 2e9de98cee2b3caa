// SPDX-License-Identifier: Apache-2.0
// When http_client asks for 100-continue before a body: always for a large one, never for a
// small one; a refusal that comes before the body was taken is the answer returned; 1xx answers
// are skipped, and a success before the body is refused.
// And the hooks a transfer uses to make its next request early (the body is sent; the answer's
// progress), the age past which an idle connection is not reused, and the congestion control
// connections are opened with.
#include "support/co_test.hh"
#include "support/loopback_listener.hh"

#include "remote/http_client.hh"

#include <gtest/gtest.h>

#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tv::remote {
namespace {

/// What the server saw of one request.
struct seen_request {
    std::string target;
    bool expect_continue = false;
    size_t body_bytes = 0;
};

/// A blocking one-thread server that reads whole requests (head, then Content-Length bytes),
/// answers 100 Continue when asked, and then answers 200, except for targets starting with
/// "/missing", which get a keep-alive 404.
class recording_server {
public:
    recording_server() {
        _thread = std::thread([this] { serve(); });
    }
    ~recording_server() {
        _done = true;
        _thread.join();
    }

    std::vector<seen_request> requests() {
        std::lock_guard lock(_mutex);
        return _requests;
    }

    tv::testing::loopback_listener listener;
    const uint16_t& port = listener.port;
    static constexpr size_t answer_body_bytes = 3 << 20;
    static std::string answer_head() {
        return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer_body_bytes) + "\r\n\r\n";
    }

private:
    static void send_text(int fd, std::string_view text) { ::send(fd, text.data(), text.size(), MSG_NOSIGNAL); }

    /// Reads up to `size` more bytes into `got` (the bytes past a head stay there); false at EOF.
    static bool read_more(int fd, std::string& got) {
        char chunk[64 * 1024];
        ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) {
            return false;
        }
        got.append(chunk, static_cast<size_t>(n));
        return true;
    }

    static std::string header(const std::string& head, std::string_view name) {
        size_t at = 0;
        while ((at = head.find("\r\n", at)) != std::string::npos) {
            at += 2;
            if (::strncasecmp(head.c_str() + at, std::string(name).c_str(), name.size()) == 0 &&
                head.compare(at + name.size(), 1, ":") == 0) {
                size_t begin = head.find_first_not_of(' ', at + name.size() + 1);
                return head.substr(begin, head.find("\r\n", begin) - begin);
            }
        }
        return {};
    }

    void serve_connection(int fd) {
        std::string got;
        for (;;) {
            size_t end = 0;
            while ((end = got.find("\r\n\r\n")) == std::string::npos) {
                if (!read_more(fd, got)) {
                    return;
                }
            }
            std::string head = got.substr(0, end + 4);
            got.erase(0, end + 4);
            seen_request seen;
            seen.target = head.substr(head.find(' ') + 1, head.find(' ', head.find(' ') + 1) - head.find(' ') - 1);
            seen.expect_continue = ::strcasecmp(header(head, "Expect").c_str(), "100-continue") == 0;
            std::string length = header(head, "Content-Length");
            size_t body = length.empty() ? 0 : std::stoul(length);
            if (seen.target.starts_with("/refuse")) {
                // Refused before the body is read, as RGW does a PUT into a deleted bucket:
                // the answer, then the connection closed with the body unread (a reset).
                send_text(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                std::lock_guard lock(_mutex);
                _requests.push_back(seen);
                return;
            }
            if (seen.target.starts_with("/premature-ok") && seen.expect_continue) {
                // Success before the body was sent: no server may say that.
                send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                std::lock_guard lock(_mutex);
                _requests.push_back(seen);
                return;
            }
            if (seen.target.starts_with("/hints") && seen.expect_continue) {
                send_text(fd, "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n");
                send_text(fd, "HTTP/1.1 102 Processing\r\n\r\n");
            }
            if (seen.expect_continue) {
                send_text(fd, "HTTP/1.1 100 Continue\r\n\r\n");
            }
            while (got.size() < body) {
                if (!read_more(fd, got)) {
                    return;
                }
            }
            got.erase(0, body);
            seen.body_bytes = body;
            {
                std::lock_guard lock(_mutex);
                _requests.push_back(seen);
            }
            if (seen.target.starts_with("/hints")) {
                send_text(fd, "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
            } else if (seen.target.starts_with("/body")) {
                std::string answer = answer_head();
                answer.append(answer_body_bytes, 'z');
                send_text(fd, answer);
            } else if (seen.target.starts_with("/missing")) {
                send_text(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            } else {
                send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            }
        }
    }

    void serve() {
        while (!_done) {
            int fd = listener.accept_within(50);
            if (fd >= 0) {
                serve_connection(fd);  // one connection at a time: the client reuses it
                ::close(fd);
            }
        }
    }

    std::mutex _mutex;
    std::vector<seen_request> _requests;
    std::atomic<bool> _done{false};
    std::thread _thread;
};

http_client_request put_request(std::string target, const std::string& body) {
    http_client_request r;
    r.method = "PUT";
    r.target = std::move(target);
    r.body = std::as_bytes(std::span(body.data(), body.size()));
    return r;
}

CO_TEST(http_client_expect, a_large_body_always_waits_for_100_continue_and_a_small_one_never) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    const std::string large(2 << 20, 'x');  // past the 1 MiB threshold
    const std::string small(1000, 'y');

    auto first = co_await client.send(endpoint, put_request("/part-1", large));
    CO_ASSERT_OK(first);
    EXPECT_EQ(first->status, 200);
    auto second = co_await client.send(endpoint, put_request("/part-2", large));
    CO_ASSERT_OK(second);
    auto refused = co_await client.send(endpoint, put_request("/missing-small", small));
    CO_ASSERT_OK(refused);
    EXPECT_EQ(refused->status, 404);
    auto after_refusal = co_await client.send(endpoint, put_request("/part-3", large));
    CO_ASSERT_OK(after_refusal);
    auto after_that = co_await client.send(endpoint, put_request("/part-4", large));
    CO_ASSERT_OK(after_that);

    EXPECT_EQ(client.stats().connections_opened, 1u) << "every request went over the one connection";
    auto seen = server.requests();
    CO_ASSERT_EQ(seen.size(), 5u);
    EXPECT_EQ(seen[0].target, "/part-1");
    EXPECT_TRUE(seen[0].expect_continue) << "a large body asks";
    EXPECT_TRUE(seen[1].expect_continue) << "after a 2xx too";
    EXPECT_FALSE(seen[2].expect_continue) << "a small body never asks";
    EXPECT_TRUE(seen[3].expect_continue) << "after a 404 too";
    EXPECT_TRUE(seen[4].expect_continue);
    for (size_t i : {0, 1, 3, 4}) {
        EXPECT_EQ(seen[i].body_bytes, large.size()) << seen[i].target;
    }
}

CO_TEST(http_client_expect, the_body_sent_hook_is_told_once_the_body_is_on_the_connection) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    const std::string large(2 << 20, 'x');
    for (const std::string* body : {&large, &large}) {
        int told = 0;
        auto put = put_request("/sent", *body);
        put.body_sent = [&told] { ++told; };
        auto sent = co_await client.send(endpoint, std::move(put));
        CO_ASSERT_OK(sent);
        EXPECT_EQ(told, 1);
    }
    EXPECT_EQ(server.requests().size(), 2u);
}

CO_TEST(http_client_expect, a_connection_idle_past_max_idle_time_is_not_reused) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client_options options;
    options.max_idle_time = std::chrono::milliseconds(50);
    http_client client(options);
    http_endpoint endpoint{"127.0.0.1", server.port};
    const std::string small(100, 's');
    for (const char* target : {"/a", "/b", "/c"}) {
        auto put = co_await client.send(endpoint, put_request(target, small));
        CO_ASSERT_OK(put);
        if (std::string_view(target) == "/b") {
            std::this_thread::sleep_for(std::chrono::milliseconds(120));
        }
    }
    // /a opens one, /b reuses it at once, /c comes after 120 ms of idleness: a new one.
    EXPECT_EQ(client.stats().connections_reused, 1u);
    EXPECT_EQ(client.stats().connections_opened, 2u);
    EXPECT_EQ(server.requests().size(), 3u);
}

CO_TEST(http_client_expect, connections_are_opened_with_the_congestion_control_configured) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_endpoint endpoint{"127.0.0.1", server.port};
    http_client_options reno;
    reno.congestion_control = "reno";  // in every kernel
    http_client client(reno);
    auto put = co_await client.send(endpoint, put_request("/reno", std::string(100, 'r')));
    CO_ASSERT_OK(put);
    // A name the kernel lacks fails the connection before anything is sent: proof it is set.
    http_client_options unknown;
    unknown.congestion_control = "no-such-cc";
    http_client refused(unknown);
    auto failed = co_await refused.send(endpoint, put_request("/unknown", std::string(100, 'u')));
    CO_ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(server.requests().size(), 1u);
}

CO_TEST(http_client_expect, an_answer_sent_before_the_body_was_taken_is_returned_not_the_reset) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    const std::string small(100, 's');
    auto first = co_await client.send(endpoint, put_request("/ok", small));
    CO_ASSERT_OK(first);
    // The server answers 404 at once, before 100 Continue, and closes, 64 MiB unread.
    const std::string huge(64 << 20, 'h');
    auto refused = co_await client.send(endpoint, put_request("/refuse", huge));
    CO_ASSERT_OK(refused);
    EXPECT_EQ(refused->status, 404);
    EXPECT_EQ(server.requests().size(), 2u);
}

CO_TEST(http_client_expect, interim_answers_are_skipped_and_success_before_the_body_is_refused) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    const std::string large(2 << 20, 'x');
    // 103 and 102 before 100 Continue, 102 before the answer: the body goes, the 201 is it.
    auto hinted = co_await client.send(endpoint, put_request("/hints", large));
    CO_ASSERT_OK(hinted);
    EXPECT_EQ(hinted->status, 201);
    auto next = co_await client.send(endpoint, put_request("/after-hints", large));
    CO_ASSERT_OK(next);
    EXPECT_EQ(next->status, 200) << "the connection carried on in step";
    // A 200 before the body was sent: an error, never a stored object.
    auto premature = co_await client.send(endpoint, put_request("/premature-ok", large));
    CO_ASSERT_FALSE(premature.has_value());
    EXPECT_EQ(premature.error(), std::errc::bad_message);
    auto after = co_await client.send(endpoint, put_request("/after-refusal", large));
    CO_ASSERT_OK(after);
    auto seen = server.requests();
    CO_ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0].body_bytes, large.size());
    EXPECT_EQ(seen[1].body_bytes, large.size());
    EXPECT_EQ(seen[1].target, "/after-hints");
    EXPECT_EQ(client.stats().connections_opened, 2u) << "the refused connection is not reused";
}

CO_TEST(http_client_expect, the_answer_progress_hook_sees_every_byte_as_it_comes) {
    recording_server server;
    CO_ASSERT_NE(server.port, 0);
    http_client client;
    http_endpoint endpoint{"127.0.0.1", server.port};
    std::vector<uint64_t> told;
    http_client_request get;
    get.method = "GET";
    get.target = "/body";
    get.answer_progress = [&told](uint64_t bytes) { told.push_back(bytes); };
    auto got = co_await client.send(endpoint, std::move(get));
    CO_ASSERT_OK(got);
    EXPECT_EQ(got->body.size(), recording_server::answer_body_bytes);
    CO_ASSERT_FALSE(told.empty());
    EXPECT_GT(told.size(), 1u) << "3 MiB came in one read";
    EXPECT_TRUE(std::is_sorted(told.begin(), told.end()));
    // The head is counted too: "HTTP/1.1 200 OK", Content-Length and the blank line.
    EXPECT_EQ(told.back(), recording_server::answer_head().size() + recording_server::answer_body_bytes);
}

}  // namespace
}  // namespace tv::remote
