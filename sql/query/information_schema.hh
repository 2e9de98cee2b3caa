// SPDX-License-Identifier: Apache-2.0
// The read-only information_schema database: tables whose rows are built from the live catalog
// each time a query opens one (never a copy), in StarRocks 3.4's columns, holding only the
// objects the session's user may see. SELECT reads them as any other source, so WHERE, ORDER BY,
// LIMIT and aggregates work unchanged.
#pragma once

#include "sql/context.hh"
#include "sql/query/query.hh"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tv::sql {

inline constexpr std::string_view information_schema_name = "information_schema";

/// Whether `db` names information_schema (any case, as in StarRocks and MySQL).
bool is_information_schema(std::string_view db);

/// The tables information_schema holds, sorted.
std::vector<std::string> information_schema_tables();

/// The columns of information_schema.`table` (any case); nullopt when there is no such table.
std::optional<std::vector<storage::column_desc>> information_schema_schema(std::string_view table);

/// information_schema.`table` as rows of the catalog as it is now; 1146 when there is no such
/// table. Reads no tablet file: sizes and row counts come from the catalog's rowset records.
sql_result<std::unique_ptr<batch_source>> open_information_schema(exec_context& ctx, std::string_view table);

/// Error 1044, StarRocks' (and MySQL's) answer to any change in information_schema.
sql_error information_schema_denied(const exec_context& ctx);

/// Whether the user may see db.name in information_schema: root and db_admin see everything,
/// others the tables, views and materialized views they hold a SELECT or INSERT grant on.
bool may_see_object(const exec_context& ctx, std::string_view db, std::string_view name);
/// Whether the user may see database `db` (it holds a grant there, or on every database).
bool may_see_database(const exec_context& ctx, const storage::database& db);

}  // namespace tv::sql
