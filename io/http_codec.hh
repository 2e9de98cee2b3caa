// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 messages over our own sockets: Boost.Beast's parser does the parsing (kept out of
// this header so only one file pays for it), responses are serialized here.
#pragma once

#include "io/error.hh"
#include "io/stream.hh"
#include "io/task.hh"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tv::io {

struct http_request {
    std::string method;  // "GET", "PUT", ...
    std::string target;  // as sent: path and query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = true;

    std::string_view path() const;
    std::string_view query() const;
    /// Case-insensitive header lookup; empty when absent.
    std::string_view header(std::string_view name) const;
};

struct http_response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

std::string_view http_reason(int status);
/// The status line, headers and body. `head_request`: the answer to HEAD, with the headers
/// (Content-Length included) a GET would have, and no body bytes.
std::string serialize(const http_response& response, bool keep_alive, bool head_request = false);

/// The body of a request whose head read_request_head() returned, read piece by piece so a
/// body of any size passes through bounded memory. Content-Length and chunked bodies alike.
class http_body_reader {
public:
    ~http_body_reader();
    http_body_reader(const http_body_reader&) = delete;
    http_body_reader& operator=(const http_body_reader&) = delete;

    /// The next piece of the body (valid until the next call), empty at its end. A connection
    /// closed mid-body or a malformed chunk is std::errc::bad_message.
    task<result<std::string_view>> next(std::stop_token stop = {});
    /// Whether the whole body has been read.
    bool done() const;
    /// Body bytes returned so far.
    uint64_t bytes_read() const { return _bytes_read; }

private:
    friend task<result<std::optional<std::pair<http_request, std::unique_ptr<http_body_reader>>>>>
    read_request_head(int fd, std::string& carry, std::stop_token stop);
    struct parser_state;
    http_body_reader(int fd, std::string& carry, std::unique_ptr<parser_state> state);

    int _fd;
    std::string& _carry;
    std::unique_ptr<parser_state> _state;
    std::vector<char> _piece;
    uint64_t _bytes_read = 0;
};

/// Reads a request's head (request line and headers; `body` stays empty); the body is then read
/// through the returned reader, which must be drained (or the connection closed) before the next
/// request. nullopt when the peer closed the connection cleanly between requests. A head over
/// 64 KiB is std::errc::message_size, or std::errc::filename_too_long when the request line
/// alone does not fit (a huge URL: 414); anything malformed is std::errc::bad_message.
task<result<std::optional<std::pair<http_request, std::unique_ptr<http_body_reader>>>>>
read_request_head(int fd, std::string& carry, std::stop_token stop = {});

/// Reads one request from a connection. `carry` holds bytes received past the previous request
/// (pipelining) and must be passed again for the next one. Yields nullopt when the peer closed
/// the connection cleanly between requests; a malformed or oversized request is an error
/// (std::errc::bad_message or std::errc::message_size).
task<result<std::optional<http_request>>> read_request(int fd, std::string& carry, size_t body_limit,
                                                      std::stop_token stop = {});


// ---- The client side: requests out, responses in (remote/'s HTTP client). ---------------------

/// A response as a client reads it: the body is whole (bounded by the caller's limit).
struct http_client_response {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = true;
    /// When the body went straight into the caller's buffer (see read_response): how many bytes.
    std::optional<size_t> body_into_size;

    /// Case-insensitive header lookup; empty when absent.
    std::string_view header(std::string_view name) const;
};

/// The request line and headers (Host and Content-Length are the caller's), then `body`.
/// The head alone (empty body) is what a client sends before waiting for 100 Continue.
std::string serialize_request(std::string_view method, std::string_view target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string_view body = {});

/// Reads one response from a connection (a plain socket or TLS): Content-Length, chunked and
/// read-until-close bodies. `carry` holds bytes received past the previous response and must be
/// passed again. `head_request`: the request was HEAD, so the response has no body whatever its
/// headers say. A 1xx response comes back as it is (empty body); read again for the final one.
/// A body larger than `body_limit` is std::errc::message_size; a connection closed before a
/// whole response is std::errc::bad_message (no bytes at all: std::errc::connection_reset, so a
/// caller can tell a stale keep-alive connection from a broken response). Requests go out as
/// serialize_request() text through the same stream's write_all().
///
/// `body_into`: a 2xx response with a Content-Length body goes straight into this buffer (read
/// from the connection into it, no copy through the parser) and `body_into_size` says how much;
/// a longer body is std::errc::message_size. Other answers (errors, chunked bodies) are read
/// into `body` as usual.
task<result<http_client_response>> read_response(stream& connection, std::string& carry, size_t body_limit,
                                                 bool head_request, std::stop_token stop = {},
                                                 std::span<std::byte> body_into = {});
/// The same over a plain socket descriptor.
task<result<http_client_response>> read_response(int fd, std::string& carry, size_t body_limit,
                                                 bool head_request, std::stop_token stop = {});

}  // namespace tv::io
