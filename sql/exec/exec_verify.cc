// SPDX-License-Identifier: Apache-2.0
// ADMIN VERIFY SNAPSHOT l ON r [PROPERTIES (...)], SHOW VERIFY [FROM r], CANCEL VERIFY [FROM r]
// (root and db_admin only, as SHOW SNAPSHOT and RESTORE). The statement runs the verification
// (jobs/snapshot_verify.hh) and answers one row per problem, or one OK row; meanwhile other
// sessions follow it with SHOW VERIFY. A read-only repository can be verified: nothing is
// written.
#include "jobs/job_tracker.hh"
#include "jobs/repository_access.hh"
#include "jobs/snapshot_verify.hh"
#include "sql/exec/backup_names.hh"
#include "sql/exec/exec_backup.hh"
#include "sql/privileges.hh"
#include "sql/query_guard.hh"

#include <fmt/format.h>

namespace tv::sql {

namespace {

io::task<statement_result> verify_snapshot(exec_context& ctx, const verify_snapshot_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "ADMIN VERIFY SNAPSHOT"); !allowed) {
        co_return allowed.error();
    }
    if (auto bad = check_snapshot_filter_names(s.repository, std::optional(std::set<std::string>{s.label})); !bad) {
        co_return bad.error();
    }
    auto tracker = need_tracker(ctx, "ADMIN VERIFY SNAPSHOT");
    if (!tracker) {
        co_return tracker.error();
    }
    auto repo = jobs::find_repository(ctx.catalog, s.repository);
    if (!repo) {
        co_return job_to_sql(repo.error());
    }
    std::stop_token stop;
    if (ctx.guard != nullptr) {
        stop = ctx.guard->token();
    }
    auto problems = co_await (*tracker)->verifications().run(std::move(*repo), s.label, s.properties, stop);
    if (!problems) {
        if (problems.error().message == "cancelled") {
            co_return make_error(errc::query_interrupted,
                                 "Query execution was interrupted: the verification was cancelled");
        }
        co_return job_to_sql(problems.error());
    }
    result_set rs = make_result({"Object", "File", "Problem"});
    for (auto& p : *problems) {
        rs.rows.push_back(row{std::move(p.object), std::move(p.file), std::move(p.problem)});
    }
    if (rs.rows.empty()) {
        rs.rows.push_back(row{std::string(), std::string(), "OK"});
    }
    co_return rs;
}

sql_result<std::optional<std::string>> repository_named(const exec_context& ctx,
                                                        const std::optional<std::string>& name) {
    if (!name) {
        return std::optional<std::string>();
    }
    auto repo = jobs::find_repository(ctx.catalog, *name);
    if (!repo) {
        return job_to_sql(repo.error());
    }
    return std::optional<std::string>(repo->name);
}

statement_result show_verify(exec_context& ctx, const show_verify_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW VERIFY"); !allowed) {
        return allowed.error();
    }
    auto tracker = need_tracker(ctx, "SHOW VERIFY");
    if (!tracker) {
        return tracker.error();
    }
    auto repository = repository_named(ctx, s.repository);
    if (!repository) {
        return repository.error();
    }
    result_set rs = make_result({"JobId", "Snapshot", "Timestamp", "Repository", "Mode", "State", "FilesDone",
                                 "FilesTotal", "BytesDone", "BytesTotal", "CurrentRate", "RateLimit", "Problems",
                                 "Status", "StartTime", "FinishTime"});
    for (const auto& v : (*tracker)->verifications().list(*repository)) {
        bool running = v->state == jobs::verify_state::running;
        const auto& p = v->progress;
        uint64_t limit = 0;
        if (running) {
            // Bytes per second in force: the engine's download limit and the verification's own.
            limit = (*tracker)->verifications().download_limit(*v);
        }
        rs.rows.push_back(row{
            job_number_cell(v->id), v->label, v->timestamp(), v->repository, std::string(jobs::verify_mode_name(v->mode)),
            std::string(jobs::verify_state_name(v->state)), job_number_cell(p.files_done + p.files_failed),
            job_number_cell(p.files_total), job_number_cell(p.bytes_done), job_number_cell(p.bytes_total),
            running ? job_number_cell(static_cast<uint64_t>(p.current_rate())) : cell(),
            limit != 0 ? job_number_cell(limit / 1024) : cell(), job_number_cell(v->problem_count()), v->status(),
            job_time_cell(v->started_ms), job_time_cell(v->finished_ms)});
    }
    if (auto filtered = apply_show_predicate(ctx, s.predicate, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result cancel_verify(exec_context& ctx, const cancel_verify_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "CANCEL VERIFY"); !allowed) {
        return allowed.error();
    }
    auto tracker = need_tracker(ctx, "CANCEL VERIFY");
    if (!tracker) {
        return tracker.error();
    }
    auto repository = repository_named(ctx, s.repository);
    if (!repository) {
        return repository.error();
    }
    (*tracker)->verifications().cancel(*repository);
    return ok_result{};
}

}  // namespace

io::task<std::optional<statement_result>> execute_verify_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<verify_snapshot_stmt>(&stmt)) {
        co_return co_await verify_snapshot(ctx, *s);
    }
    if (const auto* s = std::get_if<show_verify_stmt>(&stmt)) {
        co_return show_verify(ctx, *s);
    }
    if (const auto* s = std::get_if<cancel_verify_stmt>(&stmt)) {
        co_return cancel_verify(ctx, *s);
    }
    co_return std::nullopt;
}

}  // namespace tv::sql
