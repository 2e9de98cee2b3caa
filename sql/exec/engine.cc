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
#include "storage/catalog.hh"

namespace tv::sql {

struct engine::impl {
    storage::catalog& catalog;
};

engine::engine(storage::catalog& catalog, engine_options options)
    : _impl(std::make_unique<impl>(impl{catalog})), _options(std::move(options)) {}

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
    if (_impl->catalog.find_database(database) == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", database);
    }
    s.current_db = std::string(database);
    return {};
}

io::task<std::vector<statement_result>> engine::execute(session& s, std::string_view text, bool multi_statements) {
    std::vector<statement_result> results;
    auto parsed = parse_sql(text);
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
    for (const auto& p : statements) {
        exec_context ctx{_impl->catalog, s, _options, p.text};
        results.push_back(co_await execute_statement(ctx, p.stmt));
        if (!results.back()) {
            break;  // MySQL stops a multi-statement query at its first error
        }
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
