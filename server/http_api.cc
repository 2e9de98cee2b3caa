// SPDX-License-Identifier: Apache-2.0
// HTTP API routes and the connection loop.
#include "server/http_api.hh"

#include "io/log.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "tv_version.hh"

#include <fmt/format.h>

namespace tv::server {

namespace {

constexpr size_t k_max_request_body = 1 << 20;  // until Stream Load streams its bodies

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
            } else {
                out += c;
            }
        }
    }
    return out;
}

io::http_response status_json(int http_status, std::string_view status, std::string_view message) {
    return {http_status, "application/json",
            fmt::format("{{\"status\":\"{}\",\"msg\":\"{}\"}}\n", status, json_escape(message)), {}};
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            int hi = hex(s[i + 1]);
            int lo = hex(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i] == '+' ? ' ' : s[i];
    }
    return out;
}

io::http_response update_config(const io::http_request& request, http_api_context& ctx) {
    if (request.method != "POST") {
        return status_json(405, "BAD", "use POST /api/update_config?key=value");
    }
    std::string_view query = request.query();
    if (query.empty()) {
        return status_json(400, "BAD", "no key=value given: POST /api/update_config?key=value");
    }
    std::vector<std::pair<std::string, std::string>> changes;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) {
            return status_json(400, "BAD", fmt::format("expected key=value, got '{}'", percent_decode(pair)));
        }
        changes.emplace_back(percent_decode(pair.substr(0, eq)), percent_decode(pair.substr(eq + 1)));
    }
    if (auto error = apply_runtime_changes(ctx.cfg, changes)) {
        return status_json(400, "BAD", *error);
    }
    return status_json(200, "OK", "");
}

io::task<void> serve_connection(io::socket_fd connection, http_api_context& ctx, std::stop_token stop) {
    std::string carry;
    for (;;) {
        auto request = co_await io::read_request(connection.get(), carry, k_max_request_body, stop);
        if (!request) {
            if (!io::is_cancelled(request.error()) && request.error() != std::errc::connection_reset) {
                auto response = request.error() == std::errc::message_size
                                    ? status_json(413, "BAD", "request too large")
                                    : status_json(400, "BAD", "malformed HTTP request");
                std::string bytes = io::serialize(response, false);
                co_await io::send_all(connection.get(), std::as_bytes(std::span(bytes)), stop);
            }
            co_return;
        }
        if (!*request) {
            co_return;  // peer closed between requests
        }
        io::http_response response = handle_http_request(**request, ctx);
        bool keep_alive = (*request)->keep_alive && !stop.stop_requested();
        std::string bytes = io::serialize(response, keep_alive);
        auto sent = co_await io::send_all(connection.get(), std::as_bytes(std::span(bytes)), stop);
        if (!sent || !keep_alive) {
            co_return;
        }
    }
}

}  // namespace

io::http_response handle_http_request(const io::http_request& request, http_api_context& ctx) {
    std::string_view path = request.path();
    if (path == "/api/health") {
        return {200, "application/json", fmt::format("{{\"status\":\"OK\",\"version\":\"{}\"}}\n", TV_VERSION), {}};
    }
    if (path == "/api/update_config") {
        return update_config(request, ctx);
    }
    return status_json(404, "NOT_FOUND", fmt::format("no such endpoint: {}", path));
}

io::task<void> run_http_api(int listen_fd, http_api_context& ctx, io::gate& connections, std::stop_token stop) {
    while (!stop.stop_requested()) {
        auto fd = co_await io::accept(listen_fd, stop);
        if (!fd) {
            if (io::is_cancelled(fd.error())) {
                break;
            }
            // EMFILE and friends: say so, back off briefly instead of spinning.
            TV_LOG_WARN("http: accept failed: {}", fd.error().message());
            co_await io::sleep(std::chrono::milliseconds(100), stop);
            continue;
        }
        if (!io::spawn(connections, serve_connection(io::socket_fd(*fd), ctx, stop), "http connection")) {
            break;
        }
    }
}

}  // namespace tv::server
