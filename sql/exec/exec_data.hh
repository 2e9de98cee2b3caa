// SPDX-License-Identifier: Apache-2.0
// Statements over table data (exec_data.cc) and the SHOW statements about it (exec_show_data.cc).
#pragma once

#include "sql/exec/executor.hh"

namespace tv::sql {

io::task<std::optional<statement_result>> execute_data_statement(exec_context& ctx, const statement& stmt);

/// Replaces an asynchronous materialized view's rows with its query's current result, in one
/// load (readers see the old rows or the new ones, never a mix).
io::task<sql_result<void>> refresh_materialized_view(exec_context& ctx, std::string db, std::string name);

/// Fills a just-created synchronous materialized view from the rows its table already holds.
io::task<sql_result<void>> backfill_sync_materialized_view(exec_context& ctx, std::string db,
                                                          std::string table, std::string view);

statement_result show_partitions(exec_context& ctx, const show_partitions_stmt& s);
statement_result show_tablet(exec_context& ctx, const show_tablet_stmt& s);

}  // namespace tv::sql
