// SPDX-License-Identifier: Apache-2.0
// BACKUP, SHOW BACKUP and CANCEL BACKUP (root and db_admin only): the statement becomes a job
// request for the tracker (jobs/job_tracker.hh), whose checks give StarRocks' messages; SHOW
// BACKUP prints StarRocks' columns, then ours with the live progress.
#include "jobs/job_tracker.hh"
#include "sql/exec/exec_backup.hh"
#include "sql/exec/backup_names.hh"
#include "sql/privileges.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

namespace tv::sql {

sql_error job_to_sql(const jobs::job_error& e) {
    switch (e.code) {
    case jobs::status_code::unsupported: return sql_error{errc::not_supported_yet, e.message};
    case jobs::status_code::bad_connection: return sql_error{errc::unknown, e.message};
    default: return sql_error{errc::parse, e.message};
    }
}

sql_result<jobs::job_tracker*> need_tracker(const exec_context& ctx, std::string_view statement) {
    if (ctx.options.jobs == nullptr) {
        return make_error(errc::not_supported_yet, "{} is not available: this engine runs without a job tracker",
                          statement);
    }
    return ctx.options.jobs;
}

jobs::object_kind job_object_kind(backup_object_kind k) {
    switch (k) {
    case backup_object_kind::table: return jobs::object_kind::table;
    case backup_object_kind::materialized_view: return jobs::object_kind::materialized_view;
    case backup_object_kind::view: return jobs::object_kind::view;
    case backup_object_kind::function: return jobs::object_kind::function;
    }
    return jobs::object_kind::table;
}

cell job_time_cell(int64_t unix_ms) {
    return unix_ms > 0 ? cell(datetime_text(unix_ms)) : cell();
}

cell job_number_cell(uint64_t n) {
    return std::to_string(n);
}

std::string job_task_errors(const jobs::job_view& v) {
    if (v.retries == 0) {
        return {};
    }
    return fmt::format("{} {} retried; last: {}", v.retries, v.retries == 1 ? "request" : "requests", v.last_retry);
}

namespace {

sql_result<jobs::backup_request> request_of(const exec_context& ctx, const backup_stmt& s) {
    jobs::backup_request r;
    r.label = s.label.name;
    r.repository = s.repository;
    r.catalog_job = s.catalogs_scope != catalog_scope::none;
    r.all_catalogs = s.catalogs_scope == catalog_scope::all;
    for (const auto& c : s.catalogs) {
        if (c.alias) {
            return make_error(errc::parse, "Can not set alias for external catalog in Backup Stmt: {}", c.name);
        }
        r.catalogs.push_back(c.name);
    }
    if (s.database && !s.label.db.empty() && *s.database != s.label.db) {
        return make_error(errc::parse, "Database {} in the snapshot name differs from DATABASE {}", s.label.db,
                          *s.database);
    }
    if (!r.catalog_job || s.database || !s.label.db.empty()) {
        auto db = need_database(ctx, s.database.value_or(s.label.db));  // 1049 as the other statements
        if (!db) {
            return db.error();
        }
        r.db = (*db)->name;
    }
    r.exclude = s.filter == object_filter::exclude;
    for (const auto& o : s.objects) {
        r.objects.push_back(jobs::requested_object{job_object_kind(o.kind), o.all, o.bare, o.name.db, o.name.name,
                                                   o.partitions, o.alias});
    }
    r.properties = s.properties;
    return r;
}

io::task<statement_result> backup(exec_context& ctx, const backup_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "BACKUP"); !allowed) {
        co_return allowed.error();
    }
    if (auto bad = check_backup_names(s.label.name, s.repository, s.objects); !bad) {
        co_return bad.error();
    }
    auto tracker = need_tracker(ctx, "BACKUP");
    if (!tracker) {
        co_return tracker.error();
    }
    auto request = request_of(ctx, s);
    if (!request) {
        co_return request.error();
    }
    auto submitted = co_await (*tracker)->submit_backup(std::move(*request));
    if (!submitted) {
        co_return job_to_sql(submitted.error());
    }
    co_return ok_result{};
}

statement_result show_backup(exec_context& ctx, const show_backup_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW BACKUP"); !allowed) {
        return allowed.error();
    }
    auto tracker = need_tracker(ctx, "SHOW BACKUP");
    if (!tracker) {
        return tracker.error();
    }
    std::optional<std::string> db;
    if (s.db) {
        auto named = need_database(ctx, *s.db);
        if (!named) {
            return named.error();
        }
        db = (*named)->name;
    }
    result_set rs = make_result({"JobId", "SnapshotName", "DbName", "State", "BackupObjs", "CreateTime",
                                 "SnapshotFinishedTime", "UploadFinishedTime", "FinishedTime", "UnfinishedTasks",
                                 "Progress", "TaskErrMsg", "Status", "Timeout", "BytesDone", "BytesTotal",
                                 "FilesDone", "FilesTotal", "CurrentRate", "RateLimit", "Eta"});
    for (const auto& v : (*tracker)->list(jobs::job_type::backup, db)) {
        const jobs::job_summary& r = v.record;
        rs.rows.push_back(row{
            job_number_cell(r.id), r.label, r.db, std::string(jobs::job_state_name(r.state)), r.objects_text,
            job_time_cell(r.create_time_ms), job_time_cell(r.snapshot_finished_ms), job_time_cell(r.upload_finished_ms),
            job_time_cell(r.finished_ms), std::string(), std::string(), job_task_errors(v), r.status.status_text(),
            std::to_string(r.timeout_s), job_number_cell(v.bytes_done), job_number_cell(r.bytes_total),
            job_number_cell(v.files_done), job_number_cell(r.files_total),
            v.running ? job_number_cell(static_cast<uint64_t>(v.current_rate)) : cell(),
            v.running && v.rate_limit != 0 ? job_number_cell(v.rate_limit / 1024) : cell(),
            v.eta_s ? cell(std::to_string(*v.eta_s)) : cell()});
    }
    if (auto filtered = apply_show_predicate(ctx, s.predicate, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

io::task<statement_result> cancel_backup(exec_context& ctx, const cancel_backup_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "CANCEL BACKUP"); !allowed) {
        co_return allowed.error();
    }
    auto tracker = need_tracker(ctx, "CANCEL BACKUP");
    if (!tracker) {
        co_return tracker.error();
    }
    std::string owner;
    if (!s.external_catalog) {
        auto named = need_database(ctx, s.db.value_or(std::string()));
        if (!named) {
            co_return named.error();
        }
        owner = (*named)->name;
    }
    auto cancelled = co_await (*tracker)->cancel(jobs::job_type::backup, owner);
    if (!cancelled) {
        co_return job_to_sql(cancelled.error());
    }
    co_return ok_result{};
}

}  // namespace

io::task<std::optional<statement_result>> execute_backup_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<backup_stmt>(&stmt)) {
        co_return co_await backup(ctx, *s);
    }
    if (const auto* s = std::get_if<show_backup_stmt>(&stmt)) {
        co_return show_backup(ctx, *s);
    }
    if (const auto* s = std::get_if<cancel_backup_stmt>(&stmt)) {
        co_return co_await cancel_backup(ctx, *s);
    }
    if (const auto* s = std::get_if<show_snapshot_stmt>(&stmt)) {
        co_return co_await show_snapshot(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_snapshot_stmt>(&stmt)) {
        co_return co_await drop_snapshot(ctx, *s);
    }
    if (auto verified = co_await execute_verify_statement(ctx, stmt)) {
        co_return std::move(*verified);
    }
    co_return co_await execute_restore_statement(ctx, stmt);
}

}  // namespace tv::sql
