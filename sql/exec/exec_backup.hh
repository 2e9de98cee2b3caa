// SPDX-License-Identifier: Apache-2.0
// The statements that run through the job tracker: BACKUP, SHOW BACKUP, CANCEL BACKUP, and
// SHOW SNAPSHOT, which reads the repository directly.
#pragma once

#include "jobs/backup_plan.hh"
#include "jobs/job_error.hh"
#include "sql/exec/executor.hh"

namespace tv::jobs {
class job_tracker;
struct job_view;
}

namespace tv::sql {

/// Nullopt when `stmt` is not one of them.
io::task<std::optional<statement_result>> execute_backup_statement(exec_context& ctx, const statement& stmt);

/// RESTORE, SHOW RESTORE, CANCEL RESTORE; nullopt for other statements.
io::task<std::optional<statement_result>> execute_restore_statement(exec_context& ctx, const statement& stmt);

io::task<statement_result> show_snapshot(exec_context& ctx, const show_snapshot_stmt& s);
io::task<statement_result> drop_snapshot(exec_context& ctx, const drop_snapshot_stmt& s);
/// ADMIN VERIFY SNAPSHOT, SHOW VERIFY, CANCEL VERIFY (exec_verify.cc); nullopt for other statements.
io::task<std::optional<statement_result>> execute_verify_statement(exec_context& ctx, const statement& stmt);

/// A job's error as the client sees it: StarRocks' message; 1235 for what is not supported,
/// 1105 for a store that did not answer, 1064 otherwise (StarRocks' analysis errors).
sql_error job_to_sql(const jobs::job_error& e);

/// The parser's object kind as the jobs layer names it.
jobs::object_kind job_object_kind(backup_object_kind k);

/// SHOW BACKUP / SHOW RESTORE cells: a time (NULL when not yet), a count.
cell job_time_cell(int64_t unix_ms);
cell job_number_cell(uint64_t n);
/// TaskErrMsg: the requests the store sent again while the job went on, and why the last one
/// failed, as StarRocks shows task errors without cancelling the job ("" when none).
std::string job_task_errors(const jobs::job_view& v);

/// The server's tracker, or 1235 naming `statement` in an engine built without one.
sql_result<jobs::job_tracker*> need_tracker(const exec_context& ctx, std::string_view statement);

}  // namespace tv::sql
