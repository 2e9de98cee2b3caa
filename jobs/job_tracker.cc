// SPDX-License-Identifier: Apache-2.0
// Submission checks, the running jobs and their views (see job_tracker.hh).
#include "jobs/job_tracker.hh"

#include "io/log.hh"
#include "io/ops.hh"
#include "jobs/backup_job.hh"
#include "jobs/job_properties.hh"
#include "jobs/restore_job.hh"
#include "jobs/restore_source.hh"
#include "jobs/job_store.hh"
#include "jobs/local_snapshot.hh"
#include "jobs/repository_access.hh"
#include "remote/snapshot_layout.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace tv::jobs {

namespace {

/// The one-job rule's key: the database, or "" for the external-catalog job.
std::string owner_of(const backup_request& request) {
    return request.catalog_job ? std::string() : request.db;
}

/// A cancelled backup that stored nothing itself (it reused every file) but got as far as SAVE_META
/// leaves no progress to show its end was cut short: its snapshot directory, which that end
/// removes last, does.
bool cleanup_cut_short(const std::string& data_dir, const job_record& record) {
    std::error_code ec;
    return record.type == job_type::backup && record.state == job_state::cancelled && !record.manifest_key.empty() &&
           std::filesystem::exists(job_snapshot_dir(data_dir, record.id), ec);
}

}  // namespace

job_tracker::~job_tracker() {
    if (_services) {
        _services->catalog.set_hold_finder({});
    }
}

io::task<job_result<std::unique_ptr<job_tracker>>> job_tracker::open(storage::catalog& catalog,
                                                                     pipeline::transfer_engine& transfers,
                                                                     tracker_options options) {
    auto store = co_await job_store::open(options.data_dir);
    if (!store) {
        co_return store.error();
    }
    std::unique_ptr<job_tracker> tracker(new job_tracker());
    tracker->_options = options;
    tracker->_transfers = &transfers;
    tracker->_verifications = std::make_unique<verify_registry>(transfers);
    tracker->_store = std::move(*store);
    tracker->_services.reset(new job_services{catalog, *tracker->_store, transfers, options.upload_options,
                                              options.download_options, options.data_dir, options.packing, {}, {}, {}});
    tracker->_services->lease_timeout_ms = options.gc.lease_timeout_ms;
    tracker->_services->upload_sweep_grace_ms = options.gc.grace_ms;
    if (const char* pause = std::getenv("TV_TEST_PAUSE_BACKUP_IN"); pause != nullptr && *pause != '\0') {
        tracker->_services->pause_in = parse_job_state(pause);
        TV_LOG_WARN("jobs: TV_TEST_PAUSE_BACKUP_IN={}: backups wait in that state until stopped (tests only)", pause);
    }
    if (const char* pause = std::getenv("TV_TEST_PAUSE_RESTORE_IN"); pause != nullptr && *pause != '\0') {
        tracker->_services->restore_pause_in = parse_job_state(pause);
        TV_LOG_WARN("jobs: TV_TEST_PAUSE_RESTORE_IN={}: restores wait in that state until stopped (tests only)",
                    pause);
    }
    catalog.set_hold_finder([t = tracker.get()](std::string_view db, std::string_view object) {
        return t->holder(db, object);
    });
    std::set<uint64_t> unfinished;
    std::vector<job_record> to_resume;
    std::vector<uint64_t> to_clear;
    for (const auto& [id, record] : tracker->_store->jobs()) {
        if (!is_done(record.state)) {
            unfinished.insert(id);
            to_resume.push_back(record);
        } else if (!record.stored.empty() || !record.uploads.empty() || cleanup_cut_short(options.data_dir, record)) {
            to_clear.push_back(id);  // ended while its cleanup was cut short
        }
    }
    // A cancelled backup's end that a crash cut short is finished once the server runs (it
    // writes to the repository, which must not hold up the start); its directory, whose cut it
    // reads, stays until then.
    std::vector<job_record> cancelled_backups;
    for (uint64_t id : to_clear) {
        const job_record& ended = tracker->_store->jobs().at(id);
        if (ended.type == job_type::backup && ended.state == job_state::cancelled) {
            cancelled_backups.push_back(ended);
            unfinished.insert(id);
            continue;
        }
        if (auto cleared = co_await tracker->_store->clear_progress(id); !cleared) {
            TV_LOG_WARN("jobs: {}", cleared.error().message);
        }
    }
    if (size_t swept = co_await sweep_snapshots(options.data_dir, unfinished); swept != 0) {
        TV_LOG_INFO("jobs: removed {} snapshot directories of jobs that no longer run", swept);
    }
    // Every resumed job is prepared before any runs: the sweep below must know the tablets that
    // restores resumed in COMMIT moved into place already (unpublished, so unreferenced), and a
    // job started earlier could move its own while a later one is prepared.
    std::set<storage::object_id> placed_by_restores;
    bool placed_unknown = false;
    std::vector<std::shared_ptr<live_job>> resumed;
    for (auto& record : to_resume) {
        TV_LOG_INFO("jobs: resuming {} {} (job {}) in state {}", record.type == job_type::backup ? "backup" : "restore",
                    record.label, record.id, job_state_name(record.state));
        if (record.type == job_type::restore) {
            if (auto prepared = co_await prepare_resume(*tracker->_services, record, placed_by_restores); !prepared) {
                TV_LOG_WARN("jobs: restore {} (job {}): {}", record.label, record.id, prepared.error().message);
                placed_unknown = placed_unknown || record.state == job_state::commit;
            }
        }
        auto job = std::make_shared<live_job>(std::move(record));
        job->limit.set_rate(pipeline::kbps_to_bytes_per_second(job->record.max_speed_kbps));
        job->resumed = true;
        resumed.push_back(std::move(job));
    }
    if (options.sweep_orphan_files) {
        if (placed_unknown) {
            TV_LOG_WARN("jobs: not sweeping unreferenced tablet files at this start: a restore in COMMIT could not "
                        "say which tablets it placed already");
        } else {
            catalog.sweep_orphan_files(placed_by_restores);
        }
    }
    for (auto& job : resumed) {
        tracker->start(std::move(job));
    }
    for (auto& record : cancelled_backups) {
        TV_LOG_INFO("jobs: finishing the end of cancelled backup {} (job {})", record.label, record.id);
        io::spawn(tracker->_gate, finish_cancelled_backup(*tracker->_services, std::move(record)),
                  "cancelled backup cleanup");
    }
    co_return std::move(tracker);
}

void job_tracker::start(std::shared_ptr<live_job> job) {
    _live[job->record.id] = job;
    io::spawn(_gate, run_job(job), "backup or restore job");
    io::spawn(_gate, watch_timeout(std::move(job)), "backup or restore job timeout");
}

io::task<void> job_tracker::run_job(std::shared_ptr<live_job> job) {
    if (job->record.type == job_type::backup) {
        co_await run_backup(*_services, job);
    } else {
        co_await run_restore(*_services, job);
    }
    job->stop.request_stop();  // ends its timeout watch
    // Forget live jobs the store no longer keeps (a later job of their database replaced them).
    std::erase_if(_live, [this](const auto& entry) { return !_store->jobs().contains(entry.first); });
    // A job's plan, cut and manifest are tens of MiB of small allocations for a snapshot of many
    // files; freed, they stay resident in the heap (the allocator returns only its top). Measured
    // after a BACKUP of 20,000 files: the idle server at 271 MiB with this, 289-292 MiB without.
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

io::task<void> job_tracker::watch_timeout(std::shared_ptr<live_job> job) {
    int64_t deadline_ms = job->record.create_time_ms + job->record.timeout_s * 1000;
    int64_t remaining_ms = deadline_ms - unix_now_ms();
    if (remaining_ms > 0) {
        co_await io::sleep(std::chrono::milliseconds(remaining_ms), job->stop.get_token());
    }
    if (job->stop.stop_requested() || is_done(job->record.state)) {
        co_return;  // ended, cancelled, or the server is stopping
    }
    const char* kind = job->record.type == job_type::backup ? "backup" : "restore";
    auto ended = co_await end_job(*_services, *job,
                                  make_job_error(status_code::timeout,
                                                 fmt::format("{} job with label {} timed out after {} s", kind,
                                                             job->record.label, job->record.timeout_s)));
    if (!ended) {
        TV_LOG_ERROR("{} {}: could not journal its timeout: {}", kind, job->record.label, ended.error().message);
    } else if (*ended) {
        TV_LOG_WARN("{} {} (job {}) timed out after {} s and was cancelled", kind, job->record.label, job->record.id,
                    job->record.timeout_s);
    }
}

io::task<job_result<uint64_t>> job_tracker::submit_backup(backup_request request) {
    // One submission at a time: the checks below and the journaled job must not interleave
    // with another submission's (two BACKUPs of one database, or of one label).
    auto hold = co_await _submit_lock.lock();
    storage::catalog& catalog = _services->catalog;
    auto props = parse_backup_properties(request.properties, _options.default_timeout_s);
    if (!props) {
        co_return props.error();
    }
    auto repo = find_repository(catalog, request.repository);
    if (!repo) {
        co_return repo.error();
    }
    if (repo->read_only) {
        co_return make_job_error(status_code::common_error, fmt::format("Repository {} is read only", repo->name));
    }
    auto resolved = resolve_backup(catalog, request);
    if (!resolved) {
        co_return resolved.error();
    }
    std::string owner = owner_of(request);
    if (auto free = check_one_job(owner); !free) {
        co_return free.error();
    }
    auto store = repo->open();
    if (!store) {
        co_return store.error();
    }
    auto taken = co_await remote::label_exists(**store, repo->root, request.label);
    if (!taken) {
        co_return from_remote(taken.error(), fmt::format("list repository {}", repo->name));
    }
    if (*taken && props->incremental) {
        co_return make_job_error(status_code::common_error, "Currently does not support incremental backup");
    }
    if (*taken) {
        co_return make_job_error(status_code::common_error,
                                 fmt::format("Snapshot with name '{}' already exist in repository", request.label));
    }

    job_record record;
    record.type = job_type::backup;
    record.db = owner;
    if (!owner.empty()) {
        if (const storage::database* d = catalog.find_database(owner)) {
            record.db_id = d->id;
        }
    }
    record.label = request.label;
    record.repository = repo->name;
    record.create_time_ms = unix_now_ms();
    record.timestamp = remote::snapshot_timestamp(record.create_time_ms);
    record.state = job_state::pending;
    record.timeout_s = props->timeout_s;
    record.max_speed_kbps = props->max_upload_speed_kbps;
    record.ttl_s = props->ttl_s;
    record.objects_text = std::move(resolved->objects_text);
    record.selection = std::move(resolved->selection);
    record.status = job_error{status_code::ok, ""};
    if (auto put = co_await journal_new(record); !put) {
        co_return put.error();
    }
    auto job = std::make_shared<live_job>(std::move(record));
    job->limit.set_rate(pipeline::kbps_to_bytes_per_second(job->record.max_speed_kbps));
    job->adopt_repository_store(repo->name, std::move(*store));
    start(job);
    co_return job->record.id;
}

job_result<void> job_tracker::check_one_job(const std::string& owner) const {
    if (const job_record* last = _store->last_job(owner); last != nullptr && !is_done(last->state)) {
        return make_job_error(status_code::common_error,
                              owner.empty() ? "Can only run one backup or restore job of external catalog"
                                            : "Can only run one backup or restore job of a database at same time");
    }
    return {};
}

io::task<job_result<void>> job_tracker::journal_new(job_record& record) {
    storage::catalog& catalog = _services->catalog;
    storage::object_id id = catalog.allocate_id();
    if (auto durable = co_await catalog.ensure_ids_durable(id); !durable) {
        co_return make_job_error(status_code::common_error, durable.error().message);
    }
    record.id = static_cast<uint64_t>(id);
    co_return co_await _store->put(record);
}

io::task<job_result<uint64_t>> job_tracker::submit_restore(restore_request request) {
    auto hold = co_await _submit_lock.lock();
    storage::catalog& catalog = _services->catalog;
    auto props = parse_restore_properties(request.properties, _options.default_timeout_s);
    if (!props) {
        co_return props.error();
    }
    auto repo = find_repository(catalog, request.repository);
    if (!repo) {
        co_return repo.error();
    }
    auto store = repo->open();
    if (!store) {
        co_return store.error();
    }
    auto keys = co_await choose_snapshot(**store, repo->root, request.label, props->backup_timestamp);
    if (!keys) {
        co_return keys.error();
    }
    job_record record;
    record.type = job_type::restore;
    record.label = request.label;
    record.repository = repo->name;
    record.create_time_ms = unix_now_ms();
    record.state = job_state::pending;
    record.timeout_s = props->timeout_s;
    record.max_speed_kbps = props->max_download_speed_kbps;
    record.status = job_error{status_code::ok, ""};
    record.restore.info_key = keys->info;
    record.restore.allow_load = props->allow_load;
    record.restore.replication_num = props->replication_num;
    record.restore.meta_version = props->meta_version;
    record.restore.starrocks_meta_version = props->starrocks_meta_version;
    auto snapshot = co_await read_snapshot(**store, std::move(*keys));
    if (snapshot) {
        auto selection = select_restore(*snapshot, request);
        if (!selection) {
            co_return selection.error();
        }
        record.db = selection->target_db;
        record.objects_text = selection->objects_text;
        record.restore.selection = encode_selection(*selection);
        record.timestamp = snapshot->manifest.timestamp;
    } else {
        // A damaged snapshot: the job exists, CANCELLED, and says which object is at fault. Its
        // database is the one the statement names (AS, `db.`, else DATABASE x), since the
        // snapshot's own cannot be read.
        record.db = request.catalog_job      ? std::string()
                    : request.target_db.empty() ? request.snapshot_db.value_or(std::string())
                                                : request.target_db;
        if (record.db.empty() && !request.catalog_job) {
            // No database to file the job under ("" is the external-catalog job's): the
            // statement itself fails, saying what is wrong with the snapshot.
            co_return snapshot.error();
        }
        record.state = job_state::cancelled;
        record.status = snapshot.error();
        record.finished_ms = record.create_time_ms;
        record.timestamp = props->backup_timestamp.value_or(std::string());
    }
    record.restore.snapshot_timestamp = record.timestamp;
    if (auto free = check_one_job(record.db); !free) {
        co_return free.error();
    }
    if (const storage::database* d = record.db.empty() ? nullptr : catalog.find_database(record.db)) {
        record.db_id = d->id;
    }
    if (auto put = co_await journal_new(record); !put) {
        co_return put.error();
    }
    if (record.state == job_state::cancelled) {
        TV_LOG_WARN("restore {} (job {}) cancelled before it began: {}", record.label, record.id,
                    record.status.message);
        co_return record.id;
    }
    auto job = std::make_shared<live_job>(std::move(record));
    job->limit.set_rate(pipeline::kbps_to_bytes_per_second(job->record.max_speed_kbps));
    job->submitted_snapshot = std::make_shared<const snapshot_contents>(std::move(*snapshot));
    job->adopt_repository_store(repo->name, std::move(*store));
    start(job);
    co_return job->record.id;
}

io::task<job_result<void>> job_tracker::cancel(job_type type, std::string db) {
    auto nothing = [type] {
        return make_job_error(status_code::common_error, type == job_type::backup
                                                             ? "No backup job is currently running"
                                                             : "No restore is currently running");
    };
    const job_record* last = _store->last_job(db);
    if (last == nullptr || last->type != type || is_done(last->state)) {
        co_return nothing();
    }
    auto it = _live.find(last->id);
    if (it == _live.end()) {
        co_return nothing();
    }
    std::shared_ptr<live_job> job = it->second;
    if (job->record.state == job_state::committing || job->outcome_unknown) {
        co_return make_job_error(status_code::common_error,
                                 fmt::format("Job with label {} can not be cancelled. state: {}", job->record.label,
                                             job_state_name(job->record.state)));
    }
    // StarRocks' words: a restore says where it was cancelled (the state as end_job finds it).
    auto ended = co_await end_job(*_services, *job, make_job_error(status_code::common_error, "user cancelled"),
                                  type == job_type::restore);
    if (!ended) {
        co_return make_job_error(status_code::common_error, "Failed to cancel job: " + ended.error().message);
    }
    if (!*ended) {
        co_return nothing();  // it ended while we waited for the lock
    }
    TV_LOG_INFO("{} {} (job {}) cancelled by the user", type == job_type::backup ? "backup" : "restore",
                job->record.label, job->record.id);
    co_return job_result<void>{};
}

job_view job_tracker::view_of(const job_record& record) const {
    job_view view;
    view.record = record;
    auto it = _live.find(record.id);
    const live_job* live = it == _live.end() ? nullptr : it->second.get();
    // Past its transfer (SAVE_META, UPLOAD_INFO; COMMIT, COMMITTING) or finished, every file
    // is done, also after a restart, which counts only what it transfers itself.
    bool transferred = record.state == job_state::finished || record.state == job_state::save_meta ||
                       record.state == job_state::upload_info || record.state == job_state::commit ||
                       record.state == job_state::committing;
    if (transferred) {
        view.files_done = record.files_total;
        view.bytes_done = record.bytes_total;
    }
    if (live != nullptr) {
        view.retries = live->progress.retries.load();
        if (view.retries != 0) {
            view.last_retry = live->progress.last_retry();
        }
        view.files_failed = live->progress.files_failed;
    }
    if (live == nullptr || record.state == job_state::finished) {
        return view;
    }
    view.running = !is_done(record.state);
    if (!transferred) {
        view.files_done = live->files_stored + live->files_reused;
        view.bytes_done = live->bytes_stored + live->bytes_reused + live->progress.bytes_done;
    }
    if (!view.running) {
        return view;
    }
    uint64_t global = _transfers
                          ->limit(record.type == job_type::backup ? pipeline::direction::upload
                                                                  : pipeline::direction::download)
                          .rate();
    uint64_t own = live->limit.rate();
    view.rate_limit = global == 0 ? own : own == 0 ? global : std::min(global, own);
    if (record.state == job_state::uploading || record.state == job_state::downloading) {
        view.current_rate = live->progress.current_rate();
        if (view.current_rate > 0 && record.bytes_total >= view.bytes_done) {
            // Rounded up: 0 only when nothing is left.
            view.eta_s = static_cast<int64_t>(
                std::ceil(static_cast<double>(record.bytes_total - view.bytes_done) / view.current_rate));
        }
    }
    return view;
}

std::vector<job_view> job_tracker::list(job_type type, const std::optional<std::string>& db) const {
    std::vector<job_view> views;
    for (const auto& [id, record] : _store->jobs()) {
        if (record.type == type && (!db || record.db == *db)) {
            views.push_back(view_of(record));
        }
    }
    std::sort(views.begin(), views.end(),
              [](const job_view& a, const job_view& b) { return a.record.db < b.record.db; });
    return views;
}

const std::map<std::string, int64_t>& job_tracker::last_successful_backups() const noexcept {
    return _store->last_successful_backups();
}

std::optional<storage::job_hold> job_tracker::holder(std::string_view db, std::string_view object) const {
    for (const auto& [id, r] : _store->jobs()) {
        if (is_done(r.state) || r.db.empty() || r.db != db) {
            continue;
        }
        storage::job_hold hold{r.type == job_type::backup ? "BACKUP" : "RESTORE", r.label};
        if (object.empty()) {
            return hold;
        }
        std::vector<std::string> names;
        if (r.type == job_type::backup) {
            for (const auto& t : r.selection.tables) {
                names.push_back(t.name);
            }
            names.insert(names.end(), r.selection.views.begin(), r.selection.views.end());
            names.insert(names.end(), r.selection.materialized_views.begin(), r.selection.materialized_views.end());
        } else if (auto chosen = decode_selection(r.restore.selection)) {
            for (const auto* kind : {&chosen->tables, &chosen->materialized_views, &chosen->views}) {
                for (const auto& o : *kind) {
                    names.push_back(o.local_name);
                }
            }
        }
        if (std::find(names.begin(), names.end(), object) != names.end()) {
            return hold;
        }
    }
    return std::nullopt;
}

bool job_tracker::repository_in_use(std::string_view name) const {
    return std::any_of(_store->jobs().begin(), _store->jobs().end(), [name](const auto& entry) {
        return !is_done(entry.second.state) && entry.second.repository == name;
    });
}

io::task<void> job_tracker::close() {
    for (auto& [id, job] : _live) {
        if (!is_done(job->record.state)) {
            job->shutting_down = true;
        }
        job->stop.request_stop();
    }
    _services->closing.request_stop();
    _verifications->cancel(std::nullopt);
    co_await _verifications->close();
    co_await _gate.close();
    co_await _store->close();
}

}  // namespace tv::jobs
