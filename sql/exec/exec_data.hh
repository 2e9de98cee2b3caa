// SPDX-License-Identifier: Apache-2.0
// Statements over table data (exec_data.cc) and the SHOW statements about it (exec_show_data.cc).
#pragma once

#include "sql/exec/executor.hh"
#include "sql/query/query.hh"
#include "storage/load_writer.hh"

namespace tv::storage {
class load_writer;
}

namespace tv::sql {

io::task<std::optional<statement_result>> execute_data_statement(exec_context& ctx, const statement& stmt);

/// Replaces an asynchronous materialized view's rows with its query's current result, in one
/// load (readers see the old rows or the new ones, never a mix).
io::task<sql_result<void>> refresh_materialized_view(exec_context& ctx, std::string db, std::string name);

/// Fills a just-created synchronous materialized view from the rows its table already holds.
io::task<sql_result<void>> backfill_sync_materialized_view(exec_context& ctx, std::string db,
                                                          std::string table, std::string view);

/// UPDATE and DELETE (exec_dml.cc).
io::task<statement_result> run_update(exec_context& ctx, const update_stmt& s);
io::task<statement_result> run_delete(exec_context& ctx, const delete_stmt& s);

class load_columns;
/// Pulls every batch of `rows`, converts it to `cast_to` (completed to full table rows by
/// `columns` when given) and appends it, checking `guard` between batches. On failure the
/// caller aborts the writer, so nothing written stays behind.
io::task<sql_result<void>> pump(batch_source& rows, std::vector<storage::column_desc> cast_to,
                                const load_columns* columns, storage::load_writer& writer, query_guard* guard);

/// pump() and then commit, or abort when pumping fails: one load of `rows`, all or nothing.
io::task<sql_result<storage::load_summary>> load_all(batch_source& rows, std::vector<storage::column_desc> cast_to,
                                                    const load_columns* columns, storage::load_writer& writer,
                                                    query_guard* guard);

statement_result show_partitions(exec_context& ctx, const show_partitions_stmt& s);
statement_result show_tablet(exec_context& ctx, const show_tablet_stmt& s);

}  // namespace tv::sql
