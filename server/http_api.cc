// SPDX-License-Identifier: Apache-2.0
// HTTP API routes and the connection loop.
#include "server/http_api.hh"

#include "io/ascii.hh"
#include "io/printable.hh"
#include "io/log.hh"
#include "io/metrics.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "server/http_auth.hh"
#include "server/http_connection.hh"
#include "server/http_text.hh"
#include "server/metrics_page.hh"
#include "server/stream_load_http.hh"
#include "tv_version.hh"

#include <fmt/format.h>

#include <sys/socket.h>

#include <array>
#include <exception>
#include <optional>

namespace tv::server {

namespace {

io::metrics::gauge& open_connections =
    io::metrics::process_registry()
        .add_gauge("tabletvault_http_connections", "HTTP connections open now on http_port (refused ones not counted).")
        .with({});

constexpr size_t k_max_request_body = 1 << 20;  // every endpoint but Stream Load, which streams
// For an answer we send before closing: a client that does not read it is not waited for longer.
constexpr std::chrono::milliseconds k_answer_time{5'000};

io::http_response update_config(const io::http_request& request, http_api_context& ctx, std::string_view client_host) {
    if (request.method != "POST") {
        return status_json(405, "BAD", "use POST /api/update_config?key=value");
    }
    if (auto refused = require_http_admin(request, ctx.catalog, client_host, "POST /api/update_config")) {
        return std::move(*refused);
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
            return status_json(400, "BAD", fmt::format("expected key=value, got '{}'", printable_value(percent_decode(pair, true))));
        }
        changes.emplace_back(percent_decode(pair.substr(0, eq), true), percent_decode(pair.substr(eq + 1), true));
    }
    if (auto error = apply_runtime_changes(ctx.cfg, changes)) {
        return status_json(400, "BAD", printable_excerpt(*error, 1024));  // it may quote a huge value
    }
    if (ctx.config_changed) {
        ctx.config_changed(ctx.cfg);
    }
    return status_json(200, "OK", "");
}

std::chrono::milliseconds seconds_of(int64_t seconds) {
    return std::chrono::milliseconds(seconds * 1000);
}

/// The answer to a request the connection cannot go on from; a refusal whose request may still
/// be arriving (`linger`) ends with linger_close() so the client reads it.
io::task<void> refuse(int fd, peer_deadline& deadline, io::http_response response, bool head_request, bool linger) {
    std::string bytes = io::serialize(response, false, head_request);
    deadline.arm(k_answer_time);
    auto sent = co_await io::send_all(fd, std::as_bytes(std::span(bytes)), deadline.token());
    if (sent && linger) {
        co_await linger_close(fd, deadline);
    }
}

/// Framing and expectations we do not implement are refused before anything else reads the
/// body: a Transfer-Encoding other than exactly "chunked" (a proxy and we could disagree on where
/// the body ends), an Expect other than 100-continue.
std::optional<io::http_response> unsupported_framing(const io::http_request& request) {
    size_t encodings = 0;
    std::string_view encoding;
    for (const auto& [key, value] : request.headers) {
        if (ascii_lower(key) == "transfer-encoding") {
            ++encodings;
            encoding = value;
        }
    }
    if (encodings > 1 || (encodings == 1 && ascii_lower(trim_blanks(encoding)) != "chunked")) {
        return status_json(501, "BAD",
                           fmt::format("Transfer-Encoding '{}' is not supported: send the body with Content-Length "
                                       "or as 'Transfer-Encoding: chunked'",
                                       printable_value(encoding, 64)));
    }
    std::string_view expect = request.header("Expect");
    if (!expect.empty() && ascii_lower(trim_blanks(expect)) != "100-continue") {
        return status_json(417, "BAD",
                           fmt::format("Expect '{}' is not supported: only 100-continue", printable_value(expect, 64)));
    }
    return std::nullopt;
}

io::task<void> converse(int fd, http_api_context& ctx, peer_deadline& deadline) {
    std::string carry;
    std::array<std::byte, 16 * 1024> first_bytes;
    for (bool first_request = true;; first_request = false) {
        if (!first_request && carry.empty()) {
            // Between requests the client may stay silent for the idle timeout; once it starts a
            // request, the header timeout applies to the rest of the head.
            deadline.arm(seconds_of(ctx.cfg.get<"http_idle_timeout_seconds">()));
            auto n = co_await io::recv(fd, first_bytes, deadline.token());
            if (!n || *n == 0) {
                co_return;  // idle too long, gone, or the server is stopping: close quietly
            }
            carry.append(reinterpret_cast<const char*>(first_bytes.data()), *n);
        }
        // From accept, or from the first byte of a later request.
        deadline.arm(seconds_of(ctx.cfg.get<"http_header_timeout_seconds">()));
        auto head = co_await io::read_request_head(fd, carry, deadline.token());
        deadline.disarm();
        if (!head) {
            const auto& error = head.error();
            if (deadline.expired()) {
                TV_LOG_INFO("http: {} did not send a request head within http_header_timeout_seconds",
                            io::peer_address(fd));
                co_return;
            }
            if (io::is_cancelled(error) || error == std::errc::connection_reset) {
                co_return;
            }
            io::http_response response = error == std::errc::filename_too_long
                                             ? status_json(414, "BAD", "request line (URL) too long: 64 KiB at most")
                                         : error == std::errc::message_size
                                             ? status_json(413, "BAD", "request header too large: 64 KiB at most")
                                             : status_json(400, "BAD", "malformed HTTP request");
            co_await refuse(fd, deadline, std::move(response), false, true);
            co_return;
        }
        if (!*head) {
            co_return;  // peer closed between requests
        }
        auto& [request, body] = **head;
        const bool head_request = request.method == "HEAD";
        if (auto refusal = unsupported_framing(request)) {
            co_await refuse(fd, deadline, std::move(*refusal), head_request, !body->done());
            co_return;
        }
        if (auto target = parse_stream_load_path(request.path())) {
            if (ctx.catalog == nullptr) {
                co_await refuse(fd, deadline, status_json(503, "BAD", "the server is starting"), head_request,
                                !body->done());
                co_return;
            }
            auto keep = co_await serve_stream_load(fd, request, *body, std::move(*target), io::peer_address(fd), ctx,
                                                   deadline);
            if (!keep) {
                co_return;
            }
            continue;
        }
        if (request.header("Expect").size() > 0 && !body->done()) {
            constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
            deadline.arm(k_answer_time);
            auto sent = co_await io::send_all(fd, std::as_bytes(std::span(go_on)), deadline.token());
            if (!sent) {
                co_return;
            }
        }
        bool too_large = false;
        for (;;) {
            deadline.arm(seconds_of(ctx.cfg.get<"http_idle_timeout_seconds">()));
            auto piece = co_await body->next(deadline.token());
            if (!piece) {
                if (piece.error() == std::errc::bad_message && !deadline.token().stop_requested()) {
                    co_await refuse(fd, deadline, status_json(400, "BAD", "malformed request body (bad chunk framing)"),
                                    head_request, true);
                }
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
        deadline.disarm();
        if (too_large) {
            co_await refuse(fd, deadline, status_json(413, "BAD", "request too large: 1 MiB at most"), head_request,
                            true);
            co_return;
        }
        io::http_response response = handle_http_request(request, ctx, io::peer_address(fd));
        bool keep_alive = request.keep_alive && !deadline.token().stop_requested();
        std::string bytes = io::serialize(response, keep_alive, head_request);
        deadline.arm(seconds_of(ctx.cfg.get<"http_idle_timeout_seconds">()));
        auto sent = co_await io::send_all(fd, std::as_bytes(std::span(bytes)), deadline.token());
        deadline.disarm();
        if (!sent || !keep_alive) {
            co_return;
        }
    }
}

/// One connection: its deadline's timer runs beside the conversation and ends with it.
io::task<void> serve_connection(io::socket_fd connection, http_api_context& ctx, std::stop_token stop) {
    io::metrics::gauge::hold counted(open_connections);
    peer_deadline deadline(stop);
    io::gate timer;
    io::spawn(timer, deadline.run(), "http deadline");
    std::exception_ptr failed;
    try {
        co_await converse(connection.get(), ctx, deadline);
    } catch (...) {
        failed = std::current_exception();
    }
    deadline.close();
    co_await timer.close();  // the timer references `deadline`: it must end first
    if (failed) {
        std::rethrow_exception(failed);
    }
}

/// Past http_max_connections: a short answer and the connection closed, without reading the
/// request (which may not have arrived yet) or waiting for the client.
io::task<void> refuse_connection(io::socket_fd connection, size_t max_connections, std::stop_token stop) {
    io::http_response response = status_json(
        503, "BAD", fmt::format("too many HTTP connections (http_max_connections is {}); try again later", max_connections));
    std::string bytes = io::serialize(response, false);
    // A fresh socket's send buffer takes this at once; a client that never reads cannot hold us.
    auto sent = co_await io::send(connection.get(), std::as_bytes(std::span(bytes)), stop);
    if (!sent) {
        co_return;
    }
    // Take what the request has sent so far, so that closing ends the connection with FIN rather
    // than with a reset that could overtake the answer on its way to the client.
    std::array<std::byte, 16 * 1024> sink;
    auto drained = co_await io::recv_op(connection.get(), sink, MSG_DONTWAIT, stop);
    (void)drained;
    co_await io::shutdown(connection.get(), SHUT_WR);
}

}  // namespace

io::http_response handle_http_request(const io::http_request& request, http_api_context& ctx,
                                      std::string_view client_host) {
    std::string_view path = request.path();
    if (path == "/api/health") {
        return {200, "application/json", fmt::format("{{\"status\":\"OK\",\"version\":\"{}\"}}\n", TV_VERSION), {}};
    }
    if (path == "/metrics") {
        if (request.method != "GET" && request.method != "HEAD") {
            return status_json(405, "BAD", "use GET /metrics");
        }
        if (auto refused = authorize_metrics(request, ctx.cfg, ctx.catalog, client_host)) {
            return std::move(*refused);
        }
        return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_page(ctx.jobs, ctx.transfers), {}};
    }
    if (path == "/api/update_config") {
        return update_config(request, ctx, client_host);
    }
    return status_json(404, "NOT_FOUND", fmt::format("no such endpoint: {}", printable_value(path)));
}

io::task<void> run_http_api(int listen_fd, http_api_context& ctx, std::stop_token stop) {
    io::gate connections;
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
        auto max_connections = static_cast<size_t>(ctx.cfg.get<"http_max_connections">());
        if (connections.count() >= max_connections) {
            co_await refuse_connection(io::socket_fd(*fd), max_connections, stop);
            continue;
        }
        if (!io::spawn(connections, serve_connection(io::socket_fd(*fd), ctx, stop), "http connection")) {
            break;
        }
    }
    co_await connections.close();
}

}  // namespace tv::server
