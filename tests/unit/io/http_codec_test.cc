// SPDX-License-Identifier: Apache-2.0
// read_response with a caller's body buffer: a plain 2xx body lands in the buffer, anything the
// parser must interpret (an error document, a chunked body) comes back in `body` as before, and
// a body longer than the buffer is refused rather than overrunning it.
#include "io/http_codec.hh"
#include "io/ops.hh"
#include "io/stream.hh"
#include "support/co_test.hh"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace io = tv::io;

namespace {

// The server side of the exchange is written whole before the read, so one task suffices; the
// socket buffer holds these small answers.
struct canned_connection {
    int fds[2] = {-1, -1};
    explicit canned_connection(std::string_view answer) {
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        EXPECT_EQ(::write(fds[1], answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
        ::shutdown(fds[1], SHUT_WR);
    }
    ~canned_connection() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

std::string text_of(std::span<const std::byte> bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

CO_TEST(http_codec, a_plain_2xx_body_goes_straight_into_the_callers_buffer) {
    std::string body(40000, 'q');  // larger than the codec's own read chunk
    body[0] = 'a';
    body.back() = 'z';
    canned_connection peer("HTTP/1.1 206 Partial Content\r\nContent-Length: 40000\r\nETag: \"e\"\r\n\r\n" + body +
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    io::socket_stream stream(peer.fds[0]);
    std::string carry;
    std::vector<std::byte> into(65536);
    auto first = co_await io::read_response(stream, carry, 1 << 20, false, {}, into);
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 206);
    EXPECT_EQ(first->header("etag"), "\"e\"");
    CO_ASSERT_TRUE(first->body_into_size.has_value());
    EXPECT_EQ(*first->body_into_size, body.size());
    EXPECT_TRUE(first->body.empty());
    EXPECT_EQ(text_of(std::span(into).first(body.size())), body);
    // Whatever was read past the first answer stays in `carry` for the next one.
    auto second = co_await io::read_response(stream, carry, 1 << 20, false);
    CO_ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->body, "ok");
}

CO_TEST(http_codec, an_error_document_and_a_chunked_body_come_back_through_the_parser) {
    canned_connection peer(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 15\r\n\r\n<Error></Error>"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    io::socket_stream stream(peer.fds[0]);
    std::string carry;
    std::vector<std::byte> into(1024, std::byte{'-'});
    auto error = co_await io::read_response(stream, carry, 1 << 20, false, {}, into);
    CO_ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->status, 404);
    EXPECT_FALSE(error->body_into_size.has_value());
    EXPECT_EQ(error->body, "<Error></Error>");
    EXPECT_EQ(into[0], std::byte{'-'});  // the caller's buffer is left alone
    auto chunked = co_await io::read_response(stream, carry, 1 << 20, false, {}, into);
    CO_ASSERT_TRUE(chunked.has_value());
    EXPECT_FALSE(chunked->body_into_size.has_value());
    EXPECT_EQ(chunked->body, "hello");
}

CO_TEST(http_codec, a_body_longer_than_the_buffer_is_refused_not_overrun) {
    std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x');
    canned_connection peer(answer);
    io::socket_stream stream(peer.fds[0]);
    std::string carry;
    std::vector<std::byte> storage(128, std::byte{0});
    auto into = std::span(storage).first(64);
    auto r = co_await io::read_response(stream, carry, 1 << 20, false, {}, into);
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::message_size);
    EXPECT_EQ(storage[64], std::byte{0});
}

CO_TEST(http_codec, a_connection_closed_mid_body_is_a_bad_message) {
    canned_connection peer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part");
    io::socket_stream stream(peer.fds[0]);
    std::string carry;
    std::vector<std::byte> into(100);
    auto r = co_await io::read_response(stream, carry, 1 << 20, false, {}, into);
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::bad_message);
}

// ---- The server side: what read_request_head refuses, and HEAD answers. ----------------------

CO_TEST(http_codec, a_huge_request_line_is_told_apart_from_huge_headers) {
    // Either way the head passes the 64 KiB limit; a URL that long is 414 (URI Too Long), big
    // headers 413.
    std::string url_request = "GET /api/health?" + std::string(70 << 10, 'a') + " HTTP/1.1\r\n\r\n";
    canned_connection long_url(url_request.substr(0, 100 << 10));
    std::string carry;
    auto url = co_await io::read_request_head(long_url.fds[0], carry);
    CO_ASSERT_FALSE(url.has_value());
    EXPECT_EQ(url.error(), std::errc::filename_too_long);

    canned_connection big_headers("GET /api/health HTTP/1.1\r\nX-Big: " + std::string(70 << 10, 'b') + "\r\n\r\n");
    carry.clear();
    auto headers = co_await io::read_request_head(big_headers.fds[0], carry);
    CO_ASSERT_FALSE(headers.has_value());
    EXPECT_EQ(headers.error(), std::errc::message_size);
}

CO_TEST(http_codec, a_malformed_chunk_is_a_bad_message) {
    canned_connection peer("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nmore\r\n0\r\n\r\n");
    std::string carry;
    auto head = co_await io::read_request_head(peer.fds[0], carry);
    CO_ASSERT_TRUE(head.has_value() && head->has_value());
    auto& body = *(*head)->second;
    auto first = co_await body.next();
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, "abc");
    auto second = co_await body.next();
    CO_ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), std::errc::bad_message);
}

TEST(http_codec, the_answer_to_head_has_the_get_headers_and_no_body) {
    io::http_response response{200, "application/json", "{\"status\":\"OK\"}\n", {{"X-Extra", "1"}}};
    std::string get = io::serialize(response, true);
    std::string head = io::serialize(response, true, true);
    EXPECT_EQ(get, head + response.body);
    EXPECT_NE(head.find("Content-Length: 16\r\n"), std::string::npos) << head;
    EXPECT_TRUE(head.ends_with("X-Extra: 1\r\n\r\n")) << head;
}
