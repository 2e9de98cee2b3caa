// SPDX-License-Identifier: Apache-2.0
// The executor: runs one parsed statement for a session against the catalog. Handlers are
// grouped by area (exec_session.cc, exec_schema.cc, exec_objects.cc, exec_users.cc) and all
// share this context; every handler checks privileges before it changes anything.
#pragma once

#include "io/task.hh"
#include "sql/parser/ast.hh"
#include "sql/context.hh"
#include "sql/result.hh"
#include "sql/session.hh"

namespace tv::storage {
struct database;
}

namespace tv::io {
class loop;
class loop_group;
}

namespace tv::sql {

/// Visitor from lambdas, for std::visit over statements.
template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

io::task<statement_result> execute_statement(exec_context& ctx, const statement& stmt);

/// A loop other than the catalog's for a statement's own CPU work (filters, aggregation,
/// sorting, formatting), taken in turn; null when there is only loop 0. Call on loop 0.
io::loop* query_loop(io::loop_group* loops);

// Per-area entry points; each returns nullopt when `stmt` is not of its area.
std::optional<statement_result> execute_session_statement(exec_context& ctx, const statement& stmt);
std::optional<statement_result> execute_connection_statement(exec_context& ctx, const statement& stmt);
io::task<std::optional<statement_result>> execute_schema_statement(exec_context& ctx, const statement& stmt);
io::task<std::optional<statement_result>> execute_object_statement(exec_context& ctx, const statement& stmt);
io::task<std::optional<statement_result>> execute_user_statement(exec_context& ctx, const statement& stmt);
io::task<std::optional<statement_result>> execute_repository_statement(exec_context& ctx, const statement& stmt);
/// SHOW FRONTENDS, SHOW BACKENDS, SHOW PROC (exec_cluster.cc).
io::task<std::optional<statement_result>> execute_cluster_statement(exec_context& ctx, const statement& stmt);
/// information_schema: USE, SHOW TABLES, DESC of its tables, and 1044 for any change in it
/// (exec_information_schema.cc). Runs before every other area.
std::optional<statement_result> execute_information_schema_statement(exec_context& ctx, const statement& stmt);

/// "BACKUP", "INSERT", ...: how errors name a statement.
std::string_view statement_name(const statement& stmt);
/// Repository, snapshot, BACKUP and RESTORE statements: root and db_admin only.
bool is_backup_statement(const statement& stmt);
/// The honest error for a statement whose execution is not there yet.
sql_error not_supported_statement(const statement& stmt);

/// One-column-per-name result set of varchar columns.
result_set make_result(std::initializer_list<const char*> columns);

/// The same with one row, as SHOW CREATE answers.
result_set one_row(std::initializer_list<const char*> columns, row values);

/// How SHOW ... LIKE compares: object names are case-sensitive as in StarRocks, variable names not.
enum class like_case { sensitive, insensitive };

/// Keeps the rows a SHOW's LIKE (on the first column) and WHERE (over the result's columns by
/// name) accept.
sql_result<void> apply_show_filter(const exec_context& ctx, const show_filter& filter, result_set& rs,
                                   like_case names = like_case::sensitive);

/// WHERE, ORDER BY (result column names; numbers compare as numbers) and LIMIT of a SHOW.
sql_result<void> apply_show_predicate(const exec_context& ctx, const show_predicate& p, result_set& rs);

/// "yyyy-MM-dd HH:mm:ss" (UTC) of a Unix time in milliseconds, as SHOW statements print times.
std::string datetime_text(int64_t unix_ms);

/// BUCKETS n as written: nullopt when absent (the default applies), an error when n < 1 (0 would
/// otherwise read as "use the default" further down).
sql_result<int> written_buckets(const std::optional<int64_t>& buckets);

}  // namespace tv::sql
