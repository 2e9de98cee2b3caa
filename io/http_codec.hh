// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 messages over our own sockets: Boost.Beast's parser does the parsing (kept out of
// this header so only one file pays for it), responses are serialized here.
#pragma once

#include "io/error.hh"
#include "io/task.hh"

#include <cstddef>
#include <memory>
#include <optional>
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
std::string serialize(const http_response& response, bool keep_alive);

/// Reads one request from a connection. `carry` holds bytes received past the previous request
/// (pipelining) and must be passed again for the next one. Yields nullopt when the peer closed
/// the connection cleanly between requests; a malformed or oversized request is an error
/// (std::errc::bad_message or std::errc::message_size).
task<result<std::optional<http_request>>> read_request(int fd, std::string& carry, size_t body_limit,
                                                      std::stop_token stop = {});

}  // namespace tv::io
