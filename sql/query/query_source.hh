// SPDX-License-Identifier: Apache-2.0
// What a query's FROM names, opened as a batch_source: a table or materialized view (a storage
// scan, partitions pruned by the WHERE clause), a view (its own query, planned and run as a
// source), or TABLE(generate_series(...)). Privileges are checked here, before anything is
// opened: SELECT on the object named and on every table, view and materialized view beneath it.
#pragma once

#include "sql/context.hh"
#include "sql/query/query.hh"

#include <memory>
#include <string>
#include <variant>

namespace tv::sql {

struct opened_source {
    std::unique_ptr<batch_source> source;
    std::string name;  ///< what qualified column references may use: the alias, else the object's name
};

/// The SELECT stored as a view's or materialized view's definition, parsed again; nullopt when
/// the text is not exactly one SELECT.
std::optional<select_stmt> parse_stored_select(std::string_view text);

/// Opens `from` for a query whose WHERE clause is `where` (for partition pruning).
sql_result<opened_source> open_from(exec_context& ctx, const from_clause& from,
                                    const std::optional<expr>& where);

/// The visible rows of the table db.table in `partitions` (ids; all when empty), as a source.
/// No privilege check: the caller (UPDATE, DELETE) made its own.
sql_result<std::unique_ptr<batch_source>> open_table_partitions(exec_context& ctx, const std::string& db,
                                                                const std::string& table,
                                                                std::vector<storage::object_id> partitions);

/// Plans and opens a whole SELECT with a FROM: the rows it produces, as a source.
sql_result<std::unique_ptr<batch_source>> open_select(exec_context& ctx, const select_stmt& select);

}  // namespace tv::sql
