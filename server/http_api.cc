// SPDX-License-Identifier: Apache-2.0
// HTTP API routes and the connection loop.
#include "server/http_api.hh"

#include "io/log.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "server/http_text.hh"
#include "server/stream_load_http.hh"
#include "tv_version.hh"

#include <fmt/format.h>

namespace tv::server {

namespace {

constexpr size_t k_max_request_body = 1 << 20;  // every endpoint but Stream Load, which streams

io::http_response status_json(int http_status, std::string_view status, std::string_view message) {
    return {http_status, "application/json",
            fmt::format("{{\"status\":\"{}\",\"msg\":\"{}\"}}\n", status, json_escape(message)), {}};
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
            return status_json(400, "BAD", fmt::format("expected key=value, got '{}'", percent_decode(pair, true)));
        }
        changes.emplace_back(percent_decode(pair.substr(0, eq), true), percent_decode(pair.substr(eq + 1), true));
    }
    if (auto error = apply_runtime_changes(ctx.cfg, changes)) {
        return status_json(400, "BAD", *error);
    }
    if (ctx.config_changed) {
        ctx.config_changed(ctx.cfg);
    }
    return status_json(200, "OK", "");
}

io::task<void> send_response(int fd, const io::http_response& response, bool keep_alive, std::stop_token stop) {
    std::string bytes = io::serialize(response, keep_alive);
    co_await io::send_all(fd, std::as_bytes(std::span(bytes)), stop);
}

io::task<void> serve_connection(io::socket_fd connection, http_api_context& ctx, std::stop_token stop) {
    std::string carry;
    const int fd = connection.get();
    for (;;) {
        auto head = co_await io::read_request_head(fd, carry, stop);
        if (!head) {
            if (!io::is_cancelled(head.error()) && head.error() != std::errc::connection_reset) {
                auto response = head.error() == std::errc::message_size
                                    ? status_json(413, "BAD", "request header too large")
                                    : status_json(400, "BAD", "malformed HTTP request");
                co_await send_response(fd, response, false, stop);
            }
            co_return;
        }
        if (!*head) {
            co_return;  // peer closed between requests
        }
        auto& [request, body] = **head;
        if (auto target = parse_stream_load_path(request.path())) {
            if (ctx.catalog == nullptr) {
                co_await send_response(fd, status_json(503, "BAD", "the server is starting"), false, stop);
                co_return;
            }
            auto keep = co_await serve_stream_load(fd, request, *body, std::move(*target), io::peer_address(fd), ctx,
                                                   stop);
            if (!keep) {
                co_return;
            }
            continue;
        }
        bool too_large = false;
        for (;;) {
            auto piece = co_await body->next(stop);
            if (!piece) {
                co_return;
            }
            if (piece->empty()) {
                break;
            }
            if (request.body.size() + piece->size() > k_max_request_body) {
                too_large = true;
                break;
            }
            request.body.append(*piece);
        }
        if (too_large) {
            co_await send_response(fd, status_json(413, "BAD", "request too large"), false, stop);
            co_return;
        }
        io::http_response response = handle_http_request(request, ctx);
        bool keep_alive = request.keep_alive && !stop.stop_requested();
        std::string bytes = io::serialize(response, keep_alive);
        auto sent = co_await io::send_all(fd, std::as_bytes(std::span(bytes)), stop);
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
