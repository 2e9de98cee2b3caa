// SPDX-License-Identifier: Apache-2.0
// HTTP parsing with Boost.Beast: requests over io/ recv (server side), responses over an
// io::stream (client side, plain or TLS); and the serializers for both directions.
#include "io/http_codec.hh"

#include "io/ops.hh"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include <strings.h>

#include <array>
#include <cstring>

namespace tv::io {

namespace http = boost::beast::http;

namespace {

constexpr uint32_t k_request_head_limit = 64 * 1024;  // request line and headers together

}  // namespace

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
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

std::string serialize(const http_response& response, bool keep_alive, bool head_request) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
                                  response.status, http_reason(response.status), response.content_type,
                                  response.body.size(), keep_alive ? "keep-alive" : "close");
    for (const auto& [key, value] : response.headers) {
        out += fmt::format("{}: {}\r\n", key, value);
    }
    out += "\r\n";
    if (!head_request) {
        out += response.body;
    }
    return out;
}

struct http_body_reader::parser_state {
    http::request_parser<http::buffer_body> parser;
};

http_body_reader::http_body_reader(int fd, std::string& carry, std::unique_ptr<parser_state> state)
    : _fd(fd), _carry(carry), _state(std::move(state)), _piece(64 * 1024) {}

http_body_reader::~http_body_reader() = default;

bool http_body_reader::done() const {
    return _state->parser.is_done();
}

task<result<std::string_view>> http_body_reader::next(std::stop_token stop) {
    auto& parser = _state->parser;
    std::array<std::byte, 16 * 1024> chunk;
    for (;;) {
        if (parser.is_done()) {
            co_return std::string_view{};
        }
        if (!_carry.empty()) {
            auto& body = parser.get().body();
            body.data = _piece.data();
            body.size = _piece.size();
            body.more = true;
            boost::system::error_code ec;
            size_t used = parser.put(boost::asio::const_buffer(_carry.data(), _carry.size()), ec);
            _carry.erase(0, used);
            if (ec == http::error::need_buffer) {
                ec = {};
            }
            if (ec && ec != http::error::need_more) {
                co_return errno_error(EBADMSG);
            }
            size_t produced = _piece.size() - body.size;
            if (produced > 0) {
                _bytes_read += produced;
                co_return std::string_view(_piece.data(), produced);
            }
            // Chunk framing consumed without body bytes: go round again before asking the socket.
            if (used > 0 && !_carry.empty()) {
                continue;
            }
            if (parser.is_done()) {
                co_return std::string_view{};
            }
        }
        auto n = co_await recv(_fd, chunk, stop);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return errno_error(EBADMSG);  // closed mid-body
        }
        _carry.append(reinterpret_cast<const char*>(chunk.data()), *n);
    }
}

task<result<std::optional<std::pair<http_request, std::unique_ptr<http_body_reader>>>>>
read_request_head(int fd, std::string& carry, std::stop_token stop) {
    auto state = std::make_unique<http_body_reader::parser_state>();
    auto& parser = state->parser;
    parser.eager(false);
    parser.header_limit(k_request_head_limit);
    parser.body_limit(boost::none);
    std::array<std::byte, 16 * 1024> chunk;
    bool received_any = !carry.empty();
    // Whether the request line has ended (the parser may consume it before the headers end).
    bool line_done = carry.find('\n') != std::string::npos;
    for (;;) {
        if (!carry.empty()) {
            boost::system::error_code ec;
            size_t used = parser.put(boost::asio::const_buffer(carry.data(), carry.size()), ec);
            carry.erase(0, used);
            if (ec == http::error::header_limit) {
                // The limit covers the request line too: say which part was too long.
                co_return errno_error(line_done ? EMSGSIZE : ENAMETOOLONG);
            }
            if (ec && ec != http::error::need_more) {
                co_return errno_error(EBADMSG);
            }
            if (parser.is_header_done()) {
                break;
            }
        }
        auto n = co_await recv(fd, chunk, stop);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            if (!received_any) {
                co_return std::nullopt;
            }
            co_return errno_error(EBADMSG);  // closed mid-request
        }
        received_any = true;
        std::string_view got(reinterpret_cast<const char*>(chunk.data()), *n);
        line_done = line_done || got.find('\n') != std::string_view::npos;
        carry.append(got);
    }
    const auto& message = parser.get();
    http_request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.keep_alive = message.keep_alive();
    std::unique_ptr<http_body_reader> body(new http_body_reader(fd, carry, std::move(state)));
    co_return std::optional(std::pair(std::move(request), std::move(body)));
}

task<result<std::optional<http_request>>> read_request(int fd, std::string& carry, size_t body_limit,
                                                      std::stop_token stop) {
    auto head = co_await read_request_head(fd, carry, stop);
    if (!head) {
        co_return head.error();
    }
    if (!*head) {
        co_return std::optional<http_request>{};
    }
    auto& [request, body] = **head;
    for (;;) {
        auto piece = co_await body->next(stop);
        if (!piece) {
            co_return piece.error();
        }
        if (piece->empty()) {
            break;
        }
        if (request.body.size() + piece->size() > body_limit) {
            co_return errno_error(EMSGSIZE);
        }
        request.body.append(*piece);
    }
    co_return std::optional<http_request>{std::move(request)};
}


std::string_view http_client_response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
            return value;
        }
    }
    return {};
}

std::string serialize_request(std::string_view method, std::string_view target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string_view body) {
    std::string out = fmt::format("{} {} HTTP/1.1\r\n", method, target);
    for (const auto& [key, value] : headers) {
        out += fmt::format("{}: {}\r\n", key, value);
    }
    out += "\r\n";
    out += body;
    return out;
}

namespace {

http_client_response response_head(const http::response_parser<http::string_body>& parser) {
    const auto& message = parser.get();
    http_client_response response;
    response.status = static_cast<int>(message.result_int());
    response.reason = std::string(message.reason());
    for (const auto& field : message) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.keep_alive = message.keep_alive();
    return response;
}

}  // namespace

task<result<http_client_response>> read_response(stream& connection, std::string& carry, size_t body_limit,
                                                 bool head_request, std::stop_token stop,
                                                 std::span<std::byte> body_into) {
    http::response_parser<http::string_body> parser;
    // With a buffer for the body, the parser stops after the head (not eager) so that a plain
    // Content-Length body can be read straight into the buffer.
    bool direct = !body_into.empty() && !head_request;
    parser.eager(!direct);
    parser.header_limit(64 * 1024);
    parser.body_limit(body_limit);
    // A response to HEAD carries the object's Content-Length but no body.
    parser.skip(head_request);
    std::array<std::byte, 16 * 1024> chunk;
    bool received_any = !carry.empty();
    for (;;) {
        if (direct && parser.is_header_done()) {
            const auto& head = parser.get();
            auto length = parser.content_length();
            bool plain = head.result_int() / 100 == 2 && length && !parser.chunked();
            if (plain) {
                if (*length > body_into.size()) {
                    co_return errno_error(EMSGSIZE);
                }
                auto response = response_head(parser);
                size_t total = static_cast<size_t>(*length);
                size_t have = std::min(total, carry.size());
                std::memcpy(body_into.data(), carry.data(), have);
                carry.erase(0, have);
                while (have < total) {
                    auto n = co_await connection.read_some(body_into.subspan(have, total - have), stop);
                    if (!n) {
                        co_return n.error();
                    }
                    if (*n == 0) {
                        co_return errno_error(EBADMSG);  // closed mid-body
                    }
                    have += *n;
                }
                response.body_into_size = total;
                co_return response;
            }
            direct = false;  // an error document or a chunked body: the parser reads it
            parser.eager(true);
        }
        if (!carry.empty()) {
            boost::system::error_code ec;
            size_t used = parser.put(boost::asio::const_buffer(carry.data(), carry.size()), ec);
            carry.erase(0, used);
            if (ec == http::error::body_limit) {
                co_return errno_error(EMSGSIZE);
            }
            if (ec && ec != http::error::need_more) {
                co_return errno_error(ec == http::error::header_limit ? EMSGSIZE : EBADMSG);
            }
            if (parser.is_done()) {
                break;
            }
            if (used > 0 && !carry.empty()) {
                continue;  // the header was consumed; the body may already be in `carry`
            }
        }
        auto n = co_await connection.read_some(chunk, stop);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            if (!received_any) {
                co_return errno_error(ECONNRESET);
            }
            if (parser.is_header_done() && parser.need_eof()) {
                // A body without length or chunking ends where the connection does.
                boost::system::error_code ec;
                parser.put_eof(ec);
                if (!ec) {
                    break;
                }
            }
            co_return errno_error(EBADMSG);
        }
        received_any = true;
        carry.append(reinterpret_cast<const char*>(chunk.data()), *n);
    }
    auto response = response_head(parser);
    response.body = std::move(parser.get().body());
    co_return response;
}

task<result<http_client_response>> read_response(int fd, std::string& carry, size_t body_limit,
                                                 bool head_request, std::stop_token stop) {
    socket_stream connection(fd);
    co_return co_await read_response(connection, carry, body_limit, head_request, std::move(stop));
}

}  // namespace tv::io
