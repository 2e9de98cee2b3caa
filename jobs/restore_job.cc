// SPDX-License-Identifier: Apache-2.0
// The RESTORE state machine (see restore_job.hh).
#include "jobs/restore_job.hh"

#include "io/durable_file.hh"
#include "io/failpoint.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "jobs/job_store.hh"
#include "jobs/local_snapshot.hh"
#include "jobs/restore_download.hh"
#include "jobs/repository_access.hh"
#include "jobs/restore_plan.hh"
#include "jobs/restore_source.hh"
#include "jobs/restore_staging.hh"
#include "storage/catalog.hh"
#include "storage/tablet_files.hh"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

namespace tv::jobs {

namespace {

std::string plan_path(const job_services& s, uint64_t job_id) {
    return job_snapshot_dir(s.data_dir, job_id) + "/restore.json";
}

io::task<job_result<restore_staging>> read_plan(job_services& s, uint64_t job_id, std::stop_token stop) {
    auto text = co_await read_job_record(plan_path(s, job_id), stop);
    if (!text) {
        co_return text.error();
    }
    co_return decode_staging(*text);
}

void lock_tables(job_services& s, const job_record& r, const restore_staging& plan) {
    for (const auto& t : plan.locked_tables) {
        s.catalog.mark_restoring(plan.commit.db, t, r.label);
    }
}

void unlock_tables(job_services& s, const restore_staging& plan) {
    for (const auto& t : plan.locked_tables) {
        s.catalog.unmark_restoring(plan.commit.db, t);
    }
}

/// The snapshot as submission read it, or else (a job resumed after a restart) read again.
io::task<job_result<std::shared_ptr<const snapshot_contents>>> snapshot_to_plan(job_services& s, live_job& job,
                                                                               std::stop_token stop) {
    if (auto submitted = std::exchange(job.submitted_snapshot, nullptr)) {
        co_return submitted;
    }
    auto repo = find_repository(s.catalog, job.record.repository);
    if (!repo) {
        co_return repo.error();
    }
    auto store = job.repository_store(*repo);
    if (!store) {
        co_return store.error();
    }
    snapshot_keys keys{job.record.restore.info_key, "", ""};  // after a restart: the info object names the rest
    auto snapshot = co_await read_snapshot(**store, std::move(keys), stop);
    if (!snapshot) {
        co_return snapshot.error();
    }
    co_return std::make_shared<const snapshot_contents>(std::move(*snapshot));
}

/// The plan, durably: its ids, then the job's directory and the plan in it.
io::task<job_result<void>> save_plan(job_services& s, const job_record& r, const restore_staging& plan,
                                     std::stop_token stop) {
    // Every id the plan took must be durable before a file or record is named with it.
    if (auto durable = co_await s.catalog.ensure_ids_durable(s.catalog.allocate_id()); !durable) {
        co_return make_job_error(status_code::common_error, durable.error().message);
    }
    std::string dir = job_snapshot_dir(s.data_dir, r.id);
    if (auto made = co_await io::make_directories(dir, 0755, stop); !made) {
        co_return make_job_error(status_code::common_error, io::describe(made.error(), "create " + dir));
    }
    co_return co_await write_job_record(plan_path(s, r.id), encode_staging(plan), stop);
}

/// PENDING: check the snapshot, plan it against the catalog, keep the plan (durably, and in
/// `kept` for the job's next states).
io::task<job_result<void>> prepare(job_services& s, live_job& job, std::optional<restore_staging>& kept) {
    std::stop_token stop = job.stop.get_token();
    const job_record& r = job.record;
    auto snapshot = co_await snapshot_to_plan(s, job, stop);
    if (!snapshot) {
        co_return snapshot.error();
    }
    auto selection = decode_selection(r.restore.selection);
    if (!selection) {
        co_return selection.error();
    }
    auto plan = stage_restore(s.catalog, **snapshot, *selection);
    snapshot->reset();  // the manifest is the larger part of what the job holds; the plan is enough now
    if (!plan) {
        co_return plan.error();
    }
    // At once, before anything awaits: a load or DDL between the plan and the lock (an added
    // partition, a new synchronous MV) would not be in what COMMIT publishes over it.
    lock_tables(s, r, *plan);
    if (auto saved = co_await save_plan(s, r, *plan, stop); !saved) {
        unlock_tables(s, *plan);  // no plan on disk: the job's cleanup could not find them
        co_return saved.error();
    }
    kept = std::move(*plan);
    co_return job_result<void>{};
}

/// The tablets the plan restores, each once.
std::set<int64_t> restored_tablets(const restore_staging& plan) {
    std::set<int64_t> tablets;
    for (const auto& f : plan.files) {
        tablets.insert(f.tablet_id);
    }
    return tablets;
}

/// Their directories' names (under staging, and under the tablets root).
std::vector<std::string> tablet_names(const restore_staging& plan) {
    std::set<int64_t> tablets = restored_tablets(plan);
    std::vector<std::string> names;
    names.reserve(tablets.size());
    for (int64_t tablet : tablets) {
        names.push_back(std::to_string(tablet));
    }
    return names;
}

/// The plan's files in the tablets `names` names (tablet_names' form).
std::vector<const restore_download*> files_in_tablets(const restore_staging& plan, const std::vector<std::string>& names) {
    std::vector<const restore_download*> found;
    if (names.empty()) {
        return found;
    }
    std::set<std::string> wanted(names.begin(), names.end());
    for (const auto& f : plan.files) {
        if (wanted.contains(std::to_string(f.tablet_id))) {
            found.push_back(&f);
        }
    }
    return found;
}

/// SNAPSHOTING: the staging directories, durable.
io::task<job_result<void>> make_staging(job_services& s, live_job& job, const restore_staging& plan) {
    std::stop_token stop = job.stop.get_token();
    std::vector<std::string> names = tablet_names(plan);
    // Made at once with one fsync of the staging directory for all (a thousand tablets took
    // 0.5 s one mkdir and fsync at a time).
    co_return co_await make_directories_in(staging_dir(s.data_dir, job.record.id), std::move(names), stop);
}

/// Puts the staged files in their tablet directories, durably. Every restored tablet is new, so
/// each staging directory is renamed into place whole (a thousand renames instead of 20,000 links
/// and, after the job, 20,000 unlinks); a tablet directory that holds files already (an
/// interrupted COMMIT of an earlier version linked them) gets the rest linked file by file; one
/// an interrupted COMMIT moved already has its files checked.
io::task<job_result<void>> place_staged_files(job_services& s, const job_record& r, const restore_staging& plan,
                                              std::stop_token stop) {
    std::vector<std::string> names = tablet_names(plan);
    auto moves = co_await move_directories(staging_dir(s.data_dir, r.id), storage::tablets_root(s.data_dir),
                                           std::move(names), stop);
    if (!moves) {
        co_return moves.error();
    }
    // Directories an interrupted COMMIT moved are no longer the job's alone: before publishing
    // them, every planned file must be there, whole (nothing is published otherwise).
    std::vector<placed_file> expected;
    for (const restore_download* f : files_in_tablets(plan, moves->moved_earlier)) {
        expected.push_back(placed_file{static_cast<uint64_t>(f->tablet_id), f->name, f->size});
    }
    if (auto placed = co_await check_placed(storage::tablets_root(s.data_dir), std::move(expected), stop); !placed) {
        co_return placed.error();
    }
    std::vector<snapshot_link> links;
    for (const restore_download* f : files_in_tablets(plan, moves->occupied)) {
        links.push_back(snapshot_link{static_cast<uint64_t>(f->tablet_id), f->name, staged_file_path(s.data_dir, r.id, *f)});
    }
    if (links.empty()) {
        co_return job_result<void>{};
    }
    co_return co_await link_into(storage::tablets_root(s.data_dir), std::move(links), link_sync::file_system_when_many,
                                 stop);
}

/// COMMIT: put the staged files into their tablets, then publish the one record and journal
/// COMMITTING under the state lock, so a CANCEL sees the job either before it or after it.
/// Yields false when the job had ended meanwhile (nothing was published).
io::task<job_result<bool>> commit(job_services& s, live_job& job, const restore_staging& plan) {
    std::stop_token stop = job.stop.get_token();
    bool published = s.catalog.restore_published(plan.commit);
    if (!published) {
        auto placed = co_await place_staged_files(s, job.record, plan, stop);
        if (!placed) {
            co_return placed.error();
        }
        if (auto point = job_failpoint("restore.commit.before_publish"); !point) {
            co_return point.error();
        }
    }
    auto hold = co_await s.state_lock.lock();
    if (is_done(job.record.state)) {
        co_return false;
    }
    if (!published) {
        bool failed_before = s.catalog.journal_failed();
        auto done = co_await s.catalog.publish_restore(plan.commit);
        if (!done) {
            // A journal that failed writing this record may still have put it on disk:
            // cancelling now would remove the files a replay of it publishes.
            job.outcome_unknown = !failed_before && s.catalog.journal_failed();
            co_return make_job_error(status_code::common_error, done.error().message);
        }
        io::crash_point("restore.commit.after_publish");
    }
    job_record next = job.record;
    next.state = job_state::committing;
    auto put = co_await s.store.put(next);
    // Published even when not journaled: from here the job can only finish (end_job refuses a
    // job in COMMITTING), and a restart finds the record applied and goes on.
    job.record = std::move(next);
    if (!put) {
        co_return put.error();
    }
    co_return true;
}

/// `plan` is read once and kept for clean_up, which needs it too.
io::task<job_result<void>> drive(job_services& s, live_job& job, std::optional<restore_staging>& plan) {
    for (;;) {
        if (job.stop.stop_requested()) {
            co_return make_job_error(status_code::common_error, "stopped");
        }
        if (s.restore_pause_in == job.record.state) {
            co_await io::sleep(std::chrono::hours(24), job.stop.get_token());
            co_return make_job_error(status_code::common_error, "stopped");
        }
        if (!plan && job.record.state != job_state::pending && !is_done(job.record.state)) {
            auto read = co_await read_plan(s, job.record.id, job.stop.get_token());
            if (!read) {
                co_return read.error();
            }
            plan = std::move(*read);
            lock_tables(s, job.record, *plan);
        }
        job_record next = job.record;
        job_result<void> step;
        switch (job.record.state) {
        case job_state::pending:
            step = co_await prepare(s, job, plan);
            next.state = job_state::snapshoting;
            next.restore.meta_prepared_ms = unix_now_ms();
            break;
        case job_state::snapshoting:
            step = co_await make_staging(s, job, *plan);
            next.state = job_state::download;
            next.snapshot_finished_ms = unix_now_ms();
            break;
        case job_state::download:
            next.files_total = plan->files.size();
            next.bytes_total = 0;
            for (const auto& f : plan->files) {
                next.bytes_total += f.size;
            }
            next.state = job_state::downloading;
            break;
        case job_state::downloading:
            step = co_await download_staged_files(s, job, *plan);
            next.state = job_state::commit;
            next.upload_finished_ms = unix_now_ms();
            break;
        case job_state::commit: {
            auto committed = co_await commit(s, job, *plan);
            if (!committed) {
                co_return committed.error();
            }
            if (!*committed) {
                co_return job_result<void>{};
            }
            continue;
        }
        case job_state::committing:
            next.state = job_state::finished;
            next.finished_ms = unix_now_ms();
            next.status = job_error{status_code::ok, ""};
            break;
        default:
            co_return job_result<void>{};
        }
        if (!step) {
            co_return step.error();
        }
        auto moved = co_await advance(s, job, std::move(next));
        if (!moved) {
            co_return moved.error();
        }
        if (!*moved) {
            co_return job_result<void>{};
        }
    }
}

/// After the job ended: unlock its tables; after a cancel, remove what it linked into tablet
/// directories unless its record was published; then its directory and its progress. Uses the
/// plan the job read (`known`) rather than reading a second copy of it: for 20,000 files that
/// copy was the job's peak of memory, at its very end.
io::task<void> clean_up(job_services& s, live_job& job, std::optional<restore_staging> known) {
    if (job.record.state == job_state::cancelled) {
        io::crash_point("restore.cancel.before_cleanup");
    }
    const job_record& r = job.record;
    job_result<restore_staging> plan = restore_staging{};
    if (known) {
        plan = std::move(*known);
        known.reset();
    } else {
        plan = co_await read_plan(s, r.id, {});
    }
    if (plan) {
        unlock_tables(s, *plan);
        if (r.state == job_state::cancelled && !s.catalog.restore_published(plan->commit)) {
            for (int64_t tablet : restored_tablets(*plan)) {
                std::error_code ec;
                std::filesystem::remove_all(storage::tablet_dir(s.data_dir, tablet), ec);
                if (ec) {
                    TV_LOG_WARN("restore {}: could not remove {}: {}", r.label, storage::tablet_dir(s.data_dir, tablet),
                                ec.message());
                }
            }
        }
    }
    if (auto released = co_await release_snapshot(s.data_dir, r.id); !released) {
        TV_LOG_WARN("restore {}: {}", r.label, released.error().message);
    }
    if (auto cleared = co_await s.store.clear_progress(r.id); !cleared) {
        TV_LOG_WARN("restore {}: {}", r.label, cleared.error().message);
    }
}

}  // namespace

io::task<job_result<void>> prepare_resume(job_services& services, job_record& record,
                                          std::set<storage::object_id>& placed) {
    if (record.state == job_state::pending || is_done(record.state)) {
        co_return job_result<void>{};
    }
    auto plan = co_await read_plan(services, record.id, {});
    if (!plan) {
        co_return plan.error();  // the job fails the same way when it reads its plan
    }
    lock_tables(services, record, *plan);
    if (record.state == job_state::commit && services.catalog.restore_published(plan->commit)) {
        job_record next = record;
        next.state = job_state::committing;
        auto put = co_await services.store.put(next);
        if (!put) {
            co_return put.error();
        }
        record = std::move(next);
        TV_LOG_INFO("restore {}: its record was published before the restart; it goes on in COMMITTING",
                    record.label);
    } else if (record.state == job_state::commit) {
        for (const auto& tablet : plan->commit.tablets) {
            placed.insert(tablet.tablet_id);
        }
    }
    co_return job_result<void>{};
}

io::task<void> run_restore(job_services& services, std::shared_ptr<live_job> job) {
    std::optional<restore_staging> plan;
    auto driven = co_await drive_catching(drive(services, *job, plan));
    bool ended = co_await settle(services, *job, driven, "restore");
    if (!ended) {
        co_return;
    }
    co_await clean_up(services, *job, std::move(plan));
    if (job->record.state == job_state::finished) {
        TV_LOG_INFO("restore {} finished", job->record.label);
    }
}

}  // namespace tv::jobs
