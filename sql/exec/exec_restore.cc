// SPDX-License-Identifier: Apache-2.0
// RESTORE, SHOW RESTORE and CANCEL RESTORE (root and db_admin only): the statement becomes a job
// request for the tracker (jobs/job_tracker.hh), whose checks give StarRocks' messages; SHOW
// RESTORE prints StarRocks' 18 columns, then the same live-progress columns as SHOW BACKUP.
#include "jobs/job_tracker.hh"
#include "sql/exec/exec_backup.hh"
#include "sql/exec/backup_names.hh"
#include "sql/privileges.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

namespace tv::sql {

namespace {

sql_result<jobs::restore_request> request_of(const restore_stmt& s) {
    if (s.filter == object_filter::exclude) {
        return make_error(errc::not_supported_yet, "RESTORE ... EXCLUDE (Doris) is not supported: list the objects "
                                                   "to restore with ON (...)");
    }
    jobs::restore_request r;
    r.label = s.label.name;
    r.repository = s.repository;
    r.catalog_job = s.catalogs_scope != catalog_scope::none;
    r.all_catalogs = s.catalogs_scope == catalog_scope::all;
    for (const auto& c : s.catalogs) {
        r.catalogs.emplace_back(c.name, c.alias);
    }
    if (s.database) {
        r.snapshot_db = *s.database;
    }
    if (!s.label.db.empty() && s.database_alias && *s.database_alias != s.label.db) {
        return make_error(errc::parse, "The target database is given twice: {} in the snapshot name and {} in "
                                       "DATABASE ... AS; give one",
                          s.label.db, *s.database_alias);
    }
    // The target: DATABASE's AS, else the old form's `db.` prefix, else the snapshot's database.
    r.target_db = s.database_alias.value_or(s.label.db);
    for (const auto& o : s.objects) {
        r.objects.push_back(jobs::requested_object{job_object_kind(o.kind), o.all, o.bare, o.name.db, o.name.name,
                                                   o.partitions, o.alias});
    }
    r.properties = s.properties;
    return r;
}

io::task<statement_result> restore(exec_context& ctx, const restore_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "RESTORE"); !allowed) {
        co_return allowed.error();
    }
    if (auto bad = check_backup_names(s.label.name, s.repository, s.objects); !bad) {
        co_return bad.error();
    }
    if (s.database_alias) {
        if (auto bad = check_backup_name("database name", *s.database_alias, k_max_object_name_bytes); !bad) {
            co_return bad.error();
        }
    }
    auto tracker = need_tracker(ctx, "RESTORE");
    if (!tracker) {
        co_return tracker.error();
    }
    auto request = request_of(s);
    if (!request) {
        co_return request.error();
    }
    auto submitted = co_await (*tracker)->submit_restore(std::move(*request));
    if (!submitted) {
        co_return job_to_sql(submitted.error());
    }
    co_return ok_result{};
}

statement_result show_restore(exec_context& ctx, const show_restore_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW RESTORE"); !allowed) {
        return allowed.error();
    }
    auto tracker = need_tracker(ctx, "SHOW RESTORE");
    if (!tracker) {
        return tracker.error();
    }
    std::optional<std::string> db;
    if (s.db) {
        db = *s.db;  // the job's target, which a failed restore may never have created
    }
    result_set rs = make_result({"JobId", "Label", "Timestamp", "DbName", "State", "AllowLoad", "ReplicationNum",
                                 "RestoreObjs", "CreateTime", "MetaPreparedTime", "SnapshotFinishedTime",
                                 "DownloadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress", "TaskErrMsg",
                                 "Status", "Timeout", "BytesDone", "BytesTotal", "FilesDone", "FilesTotal",
                                 "CurrentRate", "RateLimit", "Eta"});
    for (const auto& v : (*tracker)->list(jobs::job_type::restore, db)) {
        const jobs::job_summary& r = v.record;
        rs.rows.push_back(row{
            job_number_cell(r.id), r.label, r.restore.snapshot_timestamp, r.db, std::string(jobs::job_state_name(r.state)),
            std::string(r.restore.allow_load ? "true" : "false"), std::to_string(r.restore.replication_num),
            r.objects_text, job_time_cell(r.create_time_ms), job_time_cell(r.restore.meta_prepared_ms),
            job_time_cell(r.snapshot_finished_ms), job_time_cell(r.upload_finished_ms), job_time_cell(r.finished_ms),
            std::string(), std::string(), job_task_errors(v), r.status.status_text(), std::to_string(r.timeout_s),
            job_number_cell(v.bytes_done), job_number_cell(r.bytes_total), job_number_cell(v.files_done),
            job_number_cell(r.files_total), v.running ? job_number_cell(static_cast<uint64_t>(v.current_rate)) : cell(),
            v.running && v.rate_limit != 0 ? job_number_cell(v.rate_limit / 1024) : cell(),
            v.eta_s ? cell(std::to_string(*v.eta_s)) : cell()});
    }
    if (auto filtered = apply_show_predicate(ctx, s.predicate, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

io::task<statement_result> cancel_restore(exec_context& ctx, const cancel_restore_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "CANCEL RESTORE"); !allowed) {
        co_return allowed.error();
    }
    auto tracker = need_tracker(ctx, "CANCEL RESTORE");
    if (!tracker) {
        co_return tracker.error();
    }
    std::string owner;
    if (!s.external_catalog) {
        // The target database may not exist yet (the restore creates it): no 1049 for it.
        auto named = resolve_db(ctx, s.db.value_or(std::string()));
        if (!named) {
            co_return named.error();
        }
        owner = *named;
    }
    auto cancelled = co_await (*tracker)->cancel(jobs::job_type::restore, owner);
    if (!cancelled) {
        co_return job_to_sql(cancelled.error());
    }
    co_return ok_result{};
}

}  // namespace

io::task<std::optional<statement_result>> execute_restore_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<restore_stmt>(&stmt)) {
        co_return co_await restore(ctx, *s);
    }
    if (const auto* s = std::get_if<show_restore_stmt>(&stmt)) {
        co_return show_restore(ctx, *s);
    }
    if (const auto* s = std::get_if<cancel_restore_stmt>(&stmt)) {
        co_return co_await cancel_restore(ctx, *s);
    }
    co_return std::optional<statement_result>{};
}

}  // namespace tv::sql
