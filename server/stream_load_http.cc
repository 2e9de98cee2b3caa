// SPDX-License-Identifier: Apache-2.0
// Stream Load over HTTP: request checks, the body loop and the JSON answer.
#include "server/stream_load_http.hh"

#include "io/ascii.hh"
#include "io/printable.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "server/http_api.hh"
#include "server/http_auth.hh"
#include "server/http_connection.hh"
#include "server/http_text.hh"
#include "sql/load/stream_load.hh"

#include <fmt/format.h>

#include <charconv>

namespace tv::server {

namespace {

std::string json_string(std::string_view s) {
    return "\"" + json_escape(s) + "\"";
}

/// StarRocks' answer, fields in its order, indented as it prints them.
std::string result_json(const sql::stream_load_result& r) {
    std::string out = "{\n";
    out += fmt::format("    \"TxnId\": {},\n", r.txn_id);
    out += fmt::format("    \"Label\": {},\n", json_string(r.label));
    out += fmt::format("    \"Status\": {},\n", json_string(r.status));
    if (!r.existing_job_status.empty()) {
        out += fmt::format("    \"ExistingJobStatus\": {},\n", json_string(r.existing_job_status));
    }
    out += fmt::format("    \"Message\": {},\n", json_string(r.message));
    out += fmt::format("    \"NumberTotalRows\": {},\n", r.total_rows);
    out += fmt::format("    \"NumberLoadedRows\": {},\n", r.loaded_rows);
    out += fmt::format("    \"NumberFilteredRows\": {},\n", r.filtered_rows);
    out += fmt::format("    \"NumberUnselectedRows\": {},\n", r.unselected_rows);
    out += fmt::format("    \"LoadBytes\": {},\n", r.load_bytes);
    out += fmt::format("    \"LoadTimeMs\": {},\n", r.load_time_ms);
    out += "    \"BeginTxnTimeMs\": 0,\n";
    out += "    \"StreamLoadPlanTimeMs\": 0,\n";
    out += fmt::format("    \"ReadDataTimeMs\": {},\n", r.read_data_time_ms);
    out += fmt::format("    \"WriteDataTimeMs\": {},\n", r.write_data_time_ms);
    out += fmt::format("    \"CommitAndPublishTimeMs\": {}\n", r.commit_and_publish_time_ms);
    out += "}\n";
    return out;
}

std::chrono::milliseconds idle_timeout(const http_api_context& ctx) {
    return std::chrono::milliseconds(ctx.cfg.get<"http_idle_timeout_seconds">() * 1000);
}

/// Sends the answer. With `keep_alive` false the connection ends here, lingering when the client
/// may still be sending a body we did not read.
io::task<bool> answer(int fd, const sql::stream_load_result& r, bool keep_alive, bool body_unread, bool head_request,
                      http_api_context& ctx, peer_deadline& deadline) {
    io::http_response response{r.http_status, "application/json", result_json(r), {}};
    if (r.http_status == 401) {
        response.headers.emplace_back("WWW-Authenticate", fmt::format("Basic realm=\"{}\"", http_auth_realm));
    }
    keep_alive = keep_alive && !body_unread && !deadline.token().stop_requested();
    std::string bytes = io::serialize(response, keep_alive, head_request);
    deadline.arm(idle_timeout(ctx));
    auto sent = co_await io::send_all(fd, std::as_bytes(std::span(bytes)), deadline.token());
    deadline.disarm();
    if (sent && body_unread) {
        co_await linger_close(fd, deadline);
    }
    co_return sent && keep_alive;
}

sql::stream_load_result failure(int http_status, std::string message) {
    sql::stream_load_result r;
    r.http_status = http_status;
    r.status = "Fail";
    r.message = std::move(message);
    return r;
}

}  // namespace

std::optional<stream_load_target> parse_stream_load_path(std::string_view path) {
    constexpr std::string_view prefix = "/api/";
    constexpr std::string_view suffix = "/_stream_load";
    if (!path.starts_with(prefix) || !path.ends_with(suffix) || path.size() <= prefix.size() + suffix.size()) {
        return std::nullopt;
    }
    std::string_view middle = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    size_t slash = middle.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == middle.size() ||
        middle.find('/', slash + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    return stream_load_target{percent_decode(middle.substr(0, slash), false),
                              percent_decode(middle.substr(slash + 1), false)};
}

io::task<bool> serve_stream_load(int fd, const io::http_request& head, io::http_body_reader& body,
                                 stream_load_target target, std::string client_host, http_api_context& ctx,
                                 peer_deadline& deadline) {
    const bool keep_alive = head.keep_alive;
    const bool head_request = head.method == "HEAD";
    if (head.method != "PUT") {
        auto r = failure(405, "Stream Load takes PUT (curl -T file)");
        co_return co_await answer(fd, r, keep_alive, !body.done(), head_request, ctx, deadline);
    }
    sql::stream_load_request request;
    request.db = std::move(target.db);
    request.table = std::move(target.table);
    request.client_host = std::move(client_host);
    request.headers = head.headers;
    http_caller caller = authenticate_basic(head, *ctx.catalog, request.client_host);
    if (caller.user == nullptr) {
        auto r = failure(401, std::move(caller.refusal));
        co_return co_await answer(fd, r, keep_alive, !body.done(), false, ctx, deadline);
    }
    request.user = caller.user;

    auto begun = sql::stream_load::begin(*ctx.catalog, *ctx.data, std::move(request));
    if (auto* refused = std::get_if<sql::stream_load_result>(&begun)) {
        // The body was not read: with Expect: 100-continue the client never sends it; otherwise
        // the connection cannot carry another request.
        co_return co_await answer(fd, *refused, keep_alive, !body.done(), false, ctx, deadline);
    }
    auto& load = *std::get<std::unique_ptr<sql::stream_load>>(begun);
    if (head.header("Expect").size() > 0 && !body.done()) {
        constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        deadline.arm(idle_timeout(ctx));
        auto sent = co_await io::send_all(fd, std::as_bytes(std::span(go_on)), deadline.token());
        if (!sent) {
            co_await load.abort();
            co_return false;
        }
    }
    for (;;) {
        deadline.arm(idle_timeout(ctx));
        auto piece = co_await body.next(deadline.token());
        deadline.disarm();
        if (!piece) {
            co_await load.abort();
            if (deadline.expired()) {
                TV_LOG_WARN("stream load into {}: no body bytes for http_idle_timeout_seconds: connection closed",
                            printable_value(head.path()));
                co_return false;
            }
            if (piece.error() == std::errc::bad_message && !deadline.token().stop_requested()) {
                // A malformed chunk, or the connection closed mid-body (then nobody reads this).
                auto r = failure(400, "malformed request body: bad chunk framing or a body cut short");
                co_return co_await answer(fd, r, false, true, false, ctx, deadline);
            }
            TV_LOG_WARN("stream load into {}: the body ended early: {}", printable_value(head.path()),
                        piece.error().message());
            co_return false;
        }
        if (piece->empty()) {
            break;
        }
        auto failed = co_await load.feed(*piece);
        if (failed) {
            co_return co_await answer(fd, *failed, false, !body.done(), false, ctx, deadline);
        }
    }
    auto result = co_await load.finish();
    co_return co_await answer(fd, result, keep_alive, false, false, ctx, deadline);
}

}  // namespace tv::server
