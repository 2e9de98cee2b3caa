// SPDX-License-Identifier: Apache-2.0
// HTTP request parsing with Boost.Beast over io/ recv, and response serialization.
#include "io/http_codec.hh"

#include "io/ops.hh"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include <strings.h>

#include <array>

namespace tv::io {

namespace http = boost::beast::http;

std::string_view http_request::path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
}

std::string_view http_request::query() const {
    std::string_view t = target;
    auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string_view http_request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
            return value;
        }
    }
    return {};
}

std::string_view http_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

std::string serialize(const http_response& response, bool keep_alive) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
                                  response.status, http_reason(response.status), response.content_type,
                                  response.body.size(), keep_alive ? "keep-alive" : "close");
    for (const auto& [key, value] : response.headers) {
        out += fmt::format("{}: {}\r\n", key, value);
    }
    out += "\r\n";
    out += response.body;
    return out;
}

task<result<std::optional<http_request>>> read_request(int fd, std::string& carry, size_t body_limit,
                                                      std::stop_token stop) {
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.header_limit(64 * 1024);
    parser.body_limit(body_limit);
    std::array<std::byte, 16 * 1024> chunk;
    bool received_any = !carry.empty();
    for (;;) {
        if (!carry.empty()) {
            boost::system::error_code ec;
            size_t used = parser.put(boost::asio::const_buffer(carry.data(), carry.size()), ec);
            carry.erase(0, used);
            if (ec && ec != http::error::need_more) {
                co_return errno_error(ec == http::error::body_limit || ec == http::error::header_limit ? EMSGSIZE
                                                                                                       : EBADMSG);
            }
            if (parser.is_done()) {
                break;
            }
        }
        auto n = co_await recv(fd, chunk, stop);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            if (!received_any) {
                co_return std::optional<http_request>{};
            }
            co_return errno_error(EBADMSG);  // closed mid-request
        }
        received_any = true;
        carry.append(reinterpret_cast<const char*>(chunk.data()), *n);
    }
    auto message = parser.release();
    http_request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.keep_alive = message.keep_alive();
    co_return std::optional<http_request>{std::move(request)};
}

}  // namespace tv::io
