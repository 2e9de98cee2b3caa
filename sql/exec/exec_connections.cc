// SPDX-License-Identifier: Apache-2.0
// Statements about connections: SHOW [FULL] PROCESSLIST lists them (root sees every one, other
// users their own, as in StarRocks) and KILL [CONNECTION | QUERY] ends one or its statement.
#include "sql/connections.hh"
#include "sql/exec/executor.hh"
#include "storage/catalog.hh"

namespace tv::sql {

namespace {

/// SHOW PROCESSLIST shows the first 100 characters of a statement unless FULL is given.
constexpr size_t info_shown_chars = 100;

bool is_root(const exec_context& ctx) {
    return ctx.s.user == "root";
}

/// Whether the session may see and kill `other`: its own connections, or anything as root.
bool may_manage(const exec_context& ctx, const connection_state& other) {
    return is_root(ctx) || other.s.user == ctx.s.user;
}

statement_result show_processlist(exec_context& ctx, const show_processlist_stmt& stmt) {
    result_set rs = make_result(
        {"Id", "User", "Host", "Db", "Command", "ConnectionStartTime", "Time", "State", "Info", "IsPending"});
    rs.columns[0].kind = column_kind::bigint;
    rs.columns[6].kind = column_kind::bigint;
    if (ctx.connections == nullptr) {
        return rs;
    }
    const int64_t now = unix_now_ms();
    for (const connection_state* c : ctx.connections->list()) {
        if (!may_manage(ctx, *c)) {
            continue;
        }
        cell info;
        if (c->busy) {
            info = stmt.full || c->info.size() <= info_shown_chars ? c->info : c->info.substr(0, info_shown_chars);
        }
        rs.rows.push_back({std::to_string(c->s.connection_id), c->s.user, c->s.client_host,
                           c->s.current_db.empty() ? cell{} : cell{c->s.current_db}, c->busy ? "Query" : "Sleep",
                           datetime_text(c->connected_ms), std::to_string((now - c->command_since_ms) / 1000), "OK",
                           info, "false"});
    }
    return rs;
}

statement_result kill(exec_context& ctx, const kill_stmt& stmt) {
    connection_state* target = nullptr;
    if (ctx.connections != nullptr && stmt.connection_id > 0 && stmt.connection_id <= UINT32_MAX) {
        target = ctx.connections->find(static_cast<uint32_t>(stmt.connection_id));
    }
    if (target == nullptr) {
        return make_error(errc::no_such_thread, "Unknown thread id: {}", stmt.connection_id);
    }
    if (!may_manage(ctx, *target)) {
        return make_error(errc::kill_denied, "You are not owner of thread {}", stmt.connection_id);
    }
    if (target->running != nullptr && target->running != ctx.guard) {
        target->running->stop(stop_reason::killed);
    }
    if (!stmt.query_only) {
        target->stop.request_stop();
    }
    return ok_result{};
}

}  // namespace

std::optional<statement_result> execute_connection_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<show_processlist_stmt>(&stmt)) {
        return show_processlist(ctx, *s);
    }
    if (const auto* s = std::get_if<kill_stmt>(&stmt)) {
        return kill(ctx, *s);
    }
    return std::nullopt;
}

}  // namespace tv::sql
