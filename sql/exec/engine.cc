// SPDX-License-Identifier: Apache-2.0
// The engine: authentication, current database, and running a query text statement by
// statement through the executor.
#include "sql/exec/engine.hh"

#include "io/log.hh"
#include "sql/exec/exec_backup.hh"
#include "sql/exec/exec_data.hh"
#include "sql/exec/executor.hh"
#include "sql/parser/parser.hh"
#include "sql/privileges.hh"
#include "sql/query/information_schema.hh"
#include "sql/variables.hh"
#include "storage/catalog.hh"

#include "io/loop_group.hh"

#include <malloc.h>

#if defined(__SANITIZE_ADDRESS__)
// From the sanitizer runtime's public interface (GCC ships no header for it).
extern "C" void __sanitizer_purge_allocator();
#endif

#include <charconv>

namespace tv::sql {

namespace {

/// Bytes the parsed form of a statement may take per byte of its text. Measured on the worst
/// case, a long IN list of short numbers (each item a node of a few hundred bytes); charged
/// against query_mem_limit and the pool before parsing, so a flood of huge statements is
/// refused instead of parsed.
constexpr int64_t parse_bytes_per_text_byte = 24;

/// Above this peak a finished statement hands freed memory back to the system (glibc keeps it
/// otherwise, and RSS would stay at the statement's peak).
constexpr int64_t trim_after_peak_bytes = 64 << 20;

int64_t integer_variable(const session& s, std::string_view name) {
    auto text = variable_value(s, name);
    int64_t value = 0;
    if (text) {
        std::from_chars(text->data(), text->data() + text->size(), value);
    }
    return value;
}

/// As StarRocks: query_mem_limit when it is set (> 0), else exec_mem_limit.
int64_t statement_mem_limit(const session& s) {
    int64_t limit = integer_variable(s, "query_mem_limit");
    return limit > 0 ? limit : integer_variable(s, "exec_mem_limit");
}

/// Texts at least this long are parsed on another loop: a multi-megabyte statement takes long
/// enough to lex and parse that loop 0 would stall every other client meanwhile.
constexpr size_t parse_elsewhere_bytes = 64 << 10;

using parse_outcome = std::variant<std::vector<parsed_statement>, parse_error>;

io::task<parse_outcome> parse_task(std::string_view text) {
    co_return parse_sql(text);
}

io::task<void> give_memory_back() {
    ::malloc_trim(0);
#if defined(__SANITIZE_ADDRESS__)
    // ASan's allocator ignores malloc_trim and keeps freed memory in quarantine; purging it
    // makes the sanitizer build give memory back as the release build does, so tests see it.
    __sanitizer_purge_allocator();
#endif
    co_return;
}

}  // namespace

io::loop* query_loop(io::loop_group* loops) {
    static unsigned next = 0;  // loop 0 only
    if (loops == nullptr || loops->size() < 2) {
        return nullptr;
    }
    return &loops->at(1 + next++ % (loops->size() - 1));
}

struct engine::impl {
    storage::catalog& catalog;
    connection_registry connections;
};

engine::engine(storage::catalog& catalog, engine_options options)
    : _impl(std::make_unique<impl>(impl{catalog, {}})), _options(std::move(options)) {}

io::task<void> engine::after_results_sent(connection_state& connection) {
    if (std::exchange(connection.peak_bytes, 0) < trim_after_peak_bytes) {
        co_return;
    }
    io::loop* worker = query_loop(_options.data.loops);
    if (worker != nullptr) {
        co_await io::submit_to(*worker, give_memory_back());
    } else {
        co_await give_memory_back();
    }
}

connection_registry& engine::connections() noexcept {
    return _impl->connections;
}

engine::~engine() = default;

storage::catalog& engine::catalog() const {
    return _impl->catalog;
}

sql_result<void> engine::authenticate(session& s, std::string_view user, std::string_view scramble,
                                      std::string_view auth_response) {
    const storage::user* u = _impl->catalog.match_user(user, s.client_host);
    auto bytes = [](std::string_view v) { return std::span(reinterpret_cast<const uint8_t*>(v.data()), v.size()); };
    if (u == nullptr || !storage::check_password(*u, bytes(scramble), bytes(auth_response))) {
        return make_error(errc::access_denied, "Access denied for user '{}'@'{}' (using password: {})", user,
                          s.client_host, auth_response.empty() ? "NO" : "YES");
    }
    s.user = u->name;
    s.host = u->host;
    return {};
}

sql_result<void> engine::use_database(session& s, std::string_view database) {
    // The mysql client sends `USE catalog.db` as COM_INIT_DB with the whole name.
    constexpr std::string_view internal = "default_catalog.";
    if (database.starts_with(internal)) {
        database.remove_prefix(internal.size());
    }
    if (is_information_schema(database)) {
        s.current_db = std::string(information_schema_name);
        return {};
    }
    if (_impl->catalog.find_database(database) == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", database);
    }
    s.current_db = std::string(database);
    return {};
}

io::task<std::vector<statement_result>> engine::execute(session& s, std::string_view text, bool multi_statements,
                                                        connection_state* connection) {
    std::vector<statement_result> results;
    const int64_t mem_limit = statement_mem_limit(s);
    std::stop_token connection_stop = connection != nullptr ? connection->stop.get_token() : std::stop_token{};
    query_guard parse_guard(0, mem_limit, connection_stop);
    if (auto reserved = parse_guard.reserve(static_cast<int64_t>(text.size()) * parse_bytes_per_text_byte);
        !reserved) {
        results.push_back(reserved.error());
        co_return results;
    }
    parse_outcome parsed;
    io::loop* parse_loop = text.size() >= parse_elsewhere_bytes ? query_loop(_options.data.loops) : nullptr;
    if (parse_loop != nullptr) {
        parsed = co_await io::submit_to(*parse_loop, parse_task(text));
    } else {
        parsed = parse_sql(text);
    }
    if (auto* error = std::get_if<parse_error>(&parsed)) {
        results.push_back(sql_error{errc::parse, error->message});
        co_return results;
    }
    auto& statements = std::get<std::vector<parsed_statement>>(parsed);
    if (statements.empty()) {
        results.push_back(make_error(errc::empty_query, "Query was empty"));
        co_return results;
    }
    if (statements.size() > 1 && !multi_statements) {
        // Without CLIENT_MULTI_STATEMENTS a client cannot read several results.
        results.push_back(make_error(errc::parse,
                                     "Getting syntax error: several statements in one query need the client's "
                                     "multi-statements option"));
        co_return results;
    }
    int64_t peak = parse_guard.peak();
    for (const auto& p : statements) {
        // Read per statement: an earlier SET in the same text applies to the later statements.
        query_guard guard(integer_variable(s, "query_timeout"), statement_mem_limit(s), connection_stop);
        exec_context ctx{_impl->catalog, s, _options, p.text, &guard, &_impl->connections};
        if (connection != nullptr) {
            connection->running = &guard;
            connection->info = p.text;
        }
        results.push_back(co_await execute_statement(ctx, p.stmt));
        if (connection != nullptr) {
            connection->running = nullptr;
        }
        peak = std::max(peak, guard.peak() + parse_guard.peak());
        if (!results.back()) {
            break;  // MySQL stops a multi-statement query at its first error
        }
    }
    if (connection != nullptr) {
        connection->peak_bytes = peak;
    }
    co_return results;
}

sql_result<std::vector<column_meta>> engine::field_list(session& s, std::string_view table) {
    if (s.current_db.empty()) {
        return make_error(errc::no_db_selected, "No database selected");
    }
    const storage::database* db = _impl->catalog.find_database(s.current_db);
    const storage::table* t = db == nullptr ? nullptr : _impl->catalog.find_table(s.current_db, table);
    if (t == nullptr) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", s.current_db, table);
    }
    std::vector<column_meta> columns;
    for (const auto& c : t->columns) {
        columns.push_back({c.name, column_kind::varchar});
    }
    return columns;
}

io::task<statement_result> execute_statement(exec_context& ctx, const statement& stmt) {
    if (auto r = execute_information_schema_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_cluster_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = execute_connection_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = execute_session_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_schema_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_object_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_user_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_repository_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_backup_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    if (auto r = co_await execute_data_statement(ctx, stmt)) {
        co_return std::move(*r);
    }
    // Repository, BACKUP and RESTORE statements belong to root and db_admin even before they
    // run: a user without the role learns that first.
    if (is_backup_statement(stmt)) {
        if (auto allowed = require_role(ctx, storage::role_db_admin, statement_name(stmt)); !allowed) {
            co_return allowed.error();
        }
    }
    co_return not_supported_statement(stmt);
}

}  // namespace tv::sql
