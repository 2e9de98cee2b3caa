// SPDX-License-Identifier: Apache-2.0
// The /metrics page, metric by metric; docs/http-api.md lists them for users.
#include "server/metrics_page.hh"

#include "server/transfers.hh"
#include "tv_version.hh"

#include <fmt/format.h>

#include <chrono>

namespace tv::server {

namespace {

using io::metrics::label;
using io::metrics::text_writer;

// Static initialisation runs as the process starts, long before the first scrape.
const double process_started_s =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

double seconds_of_ms(int64_t ms) {
    return static_cast<double>(ms) / 1000.0;
}

/// One gauge or counter per job: `value(view)` for each.
template <class Value>
void per_job(text_writer& out, const std::vector<jobs::job_view>& views, std::string_view name,
             std::string_view type, std::string_view help, Value value) {
    out.family(name, type, help);
    for (const auto& v : views) {
        std::string id = std::to_string(v.record.id);
        out.sample(name,
                   {{"job_id", id},
                    {"type", v.record.type == jobs::job_type::backup ? "backup" : "restore"},
                    {"db", v.record.db},
                    {"label", v.record.label}},
                   value(v));
    }
}

void write_transfer_metrics(text_writer& out, transfer_service& transfers) {
    using pipeline::direction;
    const auto& engine = transfers.engine();
    auto per_direction = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
        out.family(name, type, help);
        for (auto way : {direction::upload, direction::download}) {
            out.sample(name, {{"direction", way == direction::upload ? "upload" : "download"}}, value(way));
        }
    };
    per_direction("tabletvault_transfer_bytes_total", "counter",
                  "Bytes moved between disk and repositories since the server started (upload: to repositories).",
                  [&](direction way) { return engine.progress(way).bytes_done.load(); });
    per_direction("tabletvault_transfer_files_total", "counter",
                  "Objects transferred whole since the server started (a pack of small files counts once).",
                  [&](direction way) { return engine.progress(way).files_done.load(); });
    per_direction("tabletvault_transfer_failed_files_total", "counter",
                  "Objects whose transfer failed since the server started.",
                  [&](direction way) { return engine.progress(way).files_failed.load(); });
    per_direction("tabletvault_transfer_retries_total", "counter",
                  "Requests a repository's store sent again after a failure that may pass, since the server started.",
                  [&](direction way) { return engine.progress(way).retries.load(); });
    per_direction("tabletvault_transfer_rate_limit_bytes_per_second", "gauge",
                  "The server-wide limit in force (max_upload_speed_kbps / max_download_speed_kbps); 0: none.",
                  [&](direction way) { return engine.limit(way).rate(); });

    const io::buffer_pool& pool = transfers.pool();
    uint64_t buffer = pool.buffer_size();
    out.family("tabletvault_buffer_pool_capacity_bytes", "gauge",
               "Transfer memory: every byte in flight between disk and a repository is in this pool.");
    out.sample("tabletvault_buffer_pool_capacity_bytes", {}, uint64_t{pool.capacity() * buffer});
    out.family("tabletvault_buffer_pool_used_bytes", "gauge", "Transfer memory taken by transfers now.");
    out.sample("tabletvault_buffer_pool_used_bytes", {}, uint64_t{(pool.capacity() - pool.available()) * buffer});
    out.family("tabletvault_buffer_pool_waiters", "gauge",
               "Transfer steps waiting for a free buffer now (above 0: the pool limits the transfers).");
    out.sample("tabletvault_buffer_pool_waiters", {}, uint64_t{pool.waiting()});
}

}  // namespace

void write_job_metrics(text_writer& out, const std::vector<jobs::job_view>& views,
                       const std::map<std::string, int64_t>& last_successful) {
    const char* state_name = "tabletvault_job_state";
    out.family(state_name, "gauge",
               "1 for each job's current state (SHOW BACKUP / SHOW RESTORE's State): running jobs and the last job "
               "of each database.");
    for (const auto& v : views) {
        std::string id = std::to_string(v.record.id);
        out.sample(state_name,
                   {{"job_id", id},
                    {"type", v.record.type == jobs::job_type::backup ? "backup" : "restore"},
                    {"db", v.record.db},
                    {"label", v.record.label},
                    {"state", jobs::job_state_name(v.record.state)}},
                   uint64_t{1});
    }
    per_job(out, views, "tabletvault_job_done_bytes", "gauge",
            "Bytes of the job's snapshot files durably in place (stored, reused or downloaded).",
            [](const jobs::job_view& v) { return v.bytes_done; });
    per_job(out, views, "tabletvault_job_planned_bytes", "gauge",
            "Bytes of all the job's snapshot files (0 until its plan is made).",
            [](const jobs::job_view& v) { return v.record.bytes_total; });
    per_job(out, views, "tabletvault_job_done_files", "gauge", "Snapshot files of the job durably in place.",
            [](const jobs::job_view& v) { return v.files_done; });
    per_job(out, views, "tabletvault_job_planned_files", "gauge", "All the job's snapshot files.",
            [](const jobs::job_view& v) { return v.record.files_total; });
    per_job(out, views, "tabletvault_job_rate_bytes_per_second", "gauge",
            "The job's transfer rate over about the last five seconds (0 outside UPLOADING / DOWNLOADING).",
            [](const jobs::job_view& v) { return v.current_rate; });
    per_job(out, views, "tabletvault_job_rate_limit_bytes_per_second", "gauge",
            "The lower of the job's own and the server's limit, while it runs; 0: none.",
            [](const jobs::job_view& v) { return v.rate_limit; });
    per_job(out, views, "tabletvault_job_retries_total", "counter",
            "Requests the store sent again for the job, in this server process.",
            [](const jobs::job_view& v) { return v.retries; });
    per_job(out, views, "tabletvault_job_failed_files_total", "counter",
            "Files of the job whose transfer failed, in this server process.",
            [](const jobs::job_view& v) { return v.files_failed; });

    const char* last_name = "tabletvault_last_successful_backup_timestamp_seconds";
    out.family(last_name, "gauge",
               "When the database's last FINISHED backup finished, in seconds since the epoch (kept across later "
               "failures and restarts).");
    for (const auto& [db, ms] : last_successful) {
        out.sample(last_name, {{"db", db}}, seconds_of_ms(ms));
    }
}

std::string metrics_page(const jobs::job_tracker* tracker, transfer_service* transfers) {
    text_writer out;
    out.family("tabletvault_build_info", "gauge", "Always 1; the labels say which build runs.");
    out.sample("tabletvault_build_info", {{"version", TV_VERSION}}, uint64_t{1});
    out.family("process_start_time_seconds", "gauge", "When the server process started, in seconds since the epoch.");
    out.sample("process_start_time_seconds", {}, process_started_s);
    if (tracker != nullptr) {
        std::vector<jobs::job_view> views = tracker->list(jobs::job_type::backup, std::nullopt);
        std::vector<jobs::job_view> restores = tracker->list(jobs::job_type::restore, std::nullopt);
        views.insert(views.end(), restores.begin(), restores.end());
        write_job_metrics(out, views, tracker->last_successful_backups());
    }
    if (transfers != nullptr) {
        write_transfer_metrics(out, *transfers);
    }
    io::metrics::process_registry().write(out);
    return out.take();
}

}  // namespace tv::server
