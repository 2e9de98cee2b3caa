// SPDX-License-Identifier: Apache-2.0
// The BACKUP state machine (see backup_job.hh).
#include "jobs/backup_job.hh"

#include "io/durable_file.hh"
#include "io/failpoint.hh"
#include "io/file.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "jobs/backup_plan.hh"
#include "jobs/backup_upload.hh"
#include "jobs/job_store.hh"
#include "jobs/local_snapshot.hh"
#include "jobs/repository_access.hh"
#include "jobs/repository_lease.hh"
#include "jobs/snapshot_manifest.hh"
#include "remote/snapshot_layout.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace tv::jobs {

namespace {

std::string cut_path(const job_services& s, uint64_t job_id) {
    return job_snapshot_dir(s.data_dir, job_id) + "/cut.json";
}

std::string manifest_path(const job_services& s, uint64_t job_id) {
    return job_snapshot_dir(s.data_dir, job_id) + "/manifest.json";
}

io::task<job_result<snapshot_cut>> read_cut(job_services& s, live_job& job) {
    auto text = co_await read_job_record(cut_path(s, job.record.id), job.stop.get_token());
    if (!text) {
        co_return text.error();
    }
    co_return decode_cut(*text);
}

io::task<job_result<void>> take_snapshot(job_services& s, live_job& job) {
    std::stop_token stop = job.stop.get_token();
    snapshot_cut cut;
    {
        // Files referenced now stay on disk until they are linked, whatever DDL runs meanwhile.
        auto pin = s.catalog.pin_files();
        auto captured = capture_snapshot(s.catalog, job.record);
        if (!captured) {
            co_return captured.error();
        }
        cut = std::move(*captured);
        std::vector<snapshot_link> links;
        links.reserve(cut.files.size());
        for (const auto& f : cut.files) {
            links.push_back(snapshot_link{f.tablet_id, f.name, f.source_path});
        }
        auto linked = co_await link_snapshot(s.data_dir, job.record.id, std::move(links), stop);
        if (!linked) {
            co_return linked.error();
        }
    }
    co_return co_await write_job_record(cut_path(s, job.record.id), encode_cut(cut), stop);
}

/// What a sweep of `repository` must leave: the multipart uploads that this server's running
/// backups to it have journaled (each continues its own after a restart), and the data that
/// other servers (clusters) upload there.
remote::sweep_scope sweep_scope_of(const job_services& s, const repository_access& repo, const std::string& repository) {
    remote::sweep_scope scope;
    scope.prefix = repo.root + "/";
    scope.grace_ms = s.upload_sweep_grace_ms;
    scope.now_ms = unix_now_ms();
    scope.shared_prefix = fmt::format("{}/{}/", repo.root, remote::data_dir_name);
    scope.own_prefix = fmt::format("{}/{}/{}/", repo.root, remote::data_dir_name, s.catalog.cluster_id());
    for (const auto& [id, record] : s.store.jobs()) {
        if (record.type == job_type::backup && record.repository == repository && !is_done(record.state)) {
            for (const auto& [key, upload] : record.uploads) {
                scope.keep.insert(upload.upload_id);
            }
        }
    }
    return scope;
}

/// Once per run of the job in this process, before it writes data: what writers that died there
/// left (a put cut short by a crash of this server, say) goes.
io::task<void> sweep_repository(job_services& s, live_job& job) {
    auto repo = find_repository(s.catalog, job.record.repository);
    if (!repo) {
        co_return;  // the step that needs the repository reports it
    }
    auto store = job.repository_store(*repo);
    if (!store) {
        co_return;
    }
    auto swept = co_await (*store)->sweep_abandoned_writes(sweep_scope_of(s, *repo, job.record.repository),
                                                           job.stop.get_token());
    if (!swept) {
        TV_LOG_WARN("backup {}: could not remove what interrupted writes left in repository {}: {}",
                    job.record.label, job.record.repository, swept.error().message);
    } else if (*swept != 0) {
        TV_LOG_INFO("backup {}: removed {} temporary files or multipart uploads that interrupted writes left in "
                    "repository {}",
                    job.record.label, *swept, job.record.repository);
    }
}

io::task<job_result<void>> upload_files(job_services& s, live_job& job, job_record& next) {
    auto cut = co_await read_cut(s, job);
    if (!cut) {
        co_return cut.error();
    }
    auto repo = find_repository(s.catalog, job.record.repository);
    if (!repo) {
        co_return repo.error();
    }
    auto located = co_await upload_snapshot_files(s, job, *repo, *cut);
    if (!located) {
        co_return located.error();
    }
    std::vector<std::optional<file_location>> where(std::make_move_iterator(located->begin()),
                                                    std::make_move_iterator(located->end()));
    snapshot_manifest manifest = make_manifest(job.record, *cut, s.catalog.cluster_id(), where, true);
    auto written = co_await write_job_record(manifest_path(s, job.record.id), encode_manifest(manifest),
                                         job.stop.get_token());
    if (!written) {
        co_return written.error();
    }
    next.files_reused = job.files_reused.load();
    next.bytes_reused = job.bytes_reused.load();
    co_return job_result<void>{};
}

/// What the last two steps work from: the cut, and the repository's store on this loop.
struct publishing {
    snapshot_cut cut;
    repository_access repo;
    remote::object_store* store;  // the job's
};

io::task<job_result<publishing>> open_for_publishing(job_services& s, live_job& job) {
    auto cut = co_await read_cut(s, job);
    if (!cut) {
        co_return cut.error();
    }
    auto repo = find_repository(s.catalog, job.record.repository);
    if (!repo) {
        co_return repo.error();
    }
    auto store = job.repository_store(*repo);
    if (!store) {
        co_return store.error();
    }
    co_return publishing{std::move(*cut), std::move(*repo), *store};
}

/// Before anything is published by a job whose lease lapsed (`why`: while the server was down,
/// or while refreshes failed): every object the manifest names is still in the repository with
/// its bytes, and so is the manifest itself once stored (`manifest_key`). Meanwhile another
/// server's DROP SNAPSHOT may have removed objects this job had stored or chosen to reuse (or
/// repacked a pack it uses); a snapshot published over them would list OK and fail to restore.
io::task<job_result<void>> check_still_stored(remote::object_store& store, const repository_access& repo,
                                              const std::string& cluster, const std::string& manifest_text,
                                              std::string manifest_key, std::string why, std::stop_token stop) {
    auto manifest = decode_manifest(manifest_text, "the job's manifest");
    if (!manifest) {
        co_return manifest.error();
    }
    auto listed = co_await store.list(fmt::format("{}/{}/{}/", repo.root, remote::data_dir_name, cluster), stop);
    if (!listed) {
        co_return from_remote(listed.error(), "list stored data");
    }
    stored_sizes sizes = sizes_of(*listed);
    auto gone = [&why](const std::string& key) {
        return make_job_error(status_code::common_error,
                              fmt::format("{}, which this backup stored or chose to reuse, is gone from the repository "
                                          "or shorter (its lease lapsed {}; another server's DROP SNAPSHOT may have "
                                          "removed it). Nothing was published: run the BACKUP again",
                                          key, why));
    };
    for (const auto& f : manifest->files) {
        if (!holds_bytes(sizes, f)) {
            co_return gone(f.key);
        }
    }
    if (!manifest_key.empty()) {
        auto found = co_await store.list(manifest_key, stop);
        if (!found) {
            co_return from_remote(found.error(), "list the manifest");
        }
        if (std::none_of(found->begin(), found->end(), [&](const auto& o) { return o.key == manifest_key; })) {
            co_return gone(manifest_key);
        }
    }
    co_return job_result<void>{};
}

/// The job's lease on its repository (repository_lease.hh), held from before UPLOADING looks
/// for objects to reuse until the snapshot is published or the partial manifest written.
struct held_lease {
    remote::object_store* store;  // the job's
    std::string key;
    lease_clock clock;
};

io::task<job_result<held_lease>> take_lease(job_services& s, live_job& job, int64_t start_ms);

/// The job's lease lapsed in this run since it was last checked (or is lapsed now).
bool lapsed_in_this_run(const job_services& s, const live_job& job) {
    return job.lease != nullptr &&
           (job.lease->lapses > job.lapses_checked || job.lease->unwritten_for(s.lease_timeout_ms));
}

/// Why what the job stored or chose to reuse is checked before it publishes, or "" when its
/// lease has held since it chose.
std::string lease_gap(const job_services& s, const live_job& job) {
    if (lapsed_in_this_run(s, job)) {
        return "while its refreshes failed or came late";
    }
    if (job.resumed) {
        return "while the server was down";
    }
    return {};
}

/// Before the job publishes (SAVE_META's PUTs, UPLOAD_INFO's): if its lease lapsed since it
/// chose what to reuse, it checks that everything the manifest names (and `manifest_key`, once
/// stored) is still there. A lapse in this run first takes the lease again, waiting out a live
/// drop (which may be deleting as we look); a lapse during the check means checking again.
io::task<job_result<void>> recheck_after_lapse(job_services& s, live_job& job, remote::object_store& store,
                                               const repository_access& repo, const std::string& manifest_text,
                                               const std::string& manifest_key) {
    for (std::string gap = lease_gap(s, job); !gap.empty(); gap = lease_gap(s, job)) {
        uint64_t lapses = job.lapses_checked;
        if (lapsed_in_this_run(s, job)) {
            auto retaken = co_await take_lease(s, job, job.record.create_time_ms);
            if (!retaken) {
                co_return retaken.error();
            }
            job.lease->written_ms = retaken->clock.written_ms;
            lapses = job.lease->lapses;
        }
        auto checked = co_await check_still_stored(store, repo, s.catalog.cluster_id(), manifest_text, manifest_key,
                                                   gap, job.stop.get_token());
        if (!checked) {
            co_return checked.error();
        }
        job.resumed = false;
        job.lapses_checked = lapses;
    }
    co_return job_result<void>{};
}

/// The meta's PUT, with a crash point once it is stored: the state where the manifest's PUT,
/// beside it, may not be, which a resumed SAVE_META must complete.
io::task<job_result<std::string>> put_meta(remote::object_store& store, std::string base, std::string meta,
                                           std::stop_token stop) {
    auto key = co_await put_checksummed(store, std::move(base), std::move(meta), std::move(stop));
    if (key) {
        io::crash_point("backup.save_meta.after_meta_put");
    }
    co_return key;
}

io::task<job_result<void>> save_meta(job_services& s, live_job& job, job_record& next) {
    std::stop_token stop = job.stop.get_token();
    auto p = co_await open_for_publishing(s, job);
    if (!p) {
        co_return p.error();
    }
    auto manifest = co_await read_job_record(manifest_path(s, job.record.id), stop);
    if (!manifest) {
        co_return manifest.error();
    }
    // Checked, the stored objects are held under this run's lease from here, and the manifest
    // is this run's PUT below: UPLOAD_INFO looks again only if the lease lapses.
    if (auto checked = co_await recheck_after_lapse(s, job, *p->store, p->repo, *manifest, ""); !checked) {
        co_return checked.error();
    }
    // Both at once: neither names the other, and only the info object (next step) publishes them.
    const job_record& r = job.record;
    std::vector<io::task<job_result<std::string>>> puts;
    puts.push_back(put_meta(*p->store, remote::meta_key_base(p->repo.root, r.label, r.timestamp),
                            std::move(p->cut.meta), stop));
    puts.push_back(put_checksummed(*p->store, remote::manifest_key_base(p->repo.root, r.label, r.timestamp),
                                   std::move(*manifest), stop));
    auto keys = co_await io::when_all(std::move(puts));
    for (auto& key : keys) {
        if (!key) {
            co_return key.error();
        }
    }
    if (auto point = job_failpoint("backup.save_meta.after_puts"); !point) {
        co_return point.error();
    }
    next.meta_key = std::move(*keys[0]);
    next.manifest_key = std::move(*keys[1]);
    co_return job_result<void>{};
}

io::task<job_result<void>> upload_info(job_services& s, live_job& job) {
    auto p = co_await open_for_publishing(s, job);
    if (!p) {
        co_return p.error();
    }
    if (!lease_gap(s, job).empty()) {
        // What SAVE_META stored may have gone while the lease was lapsed.
        auto manifest = co_await read_job_record(manifest_path(s, job.record.id), job.stop.get_token());
        if (!manifest) {
            co_return manifest.error();
        }
        auto checked =
            co_await recheck_after_lapse(s, job, *p->store, p->repo, *manifest, job.record.manifest_key);
        if (!checked) {
            co_return checked.error();
        }
    }
    job_info info = std::move(p->cut.info);
    info.format_version = remote::repository_format_version;
    info.cluster_id = s.catalog.cluster_id();
    info.meta_key = job.record.meta_key;
    info.manifest_key = job.record.manifest_key;
    info.expire_time_ms = job.record.expire_time_ms;
    const job_record& r = job.record;
    auto key = co_await put_checksummed(*p->store, remote::info_key_base(p->repo.root, r.label, r.timestamp),
                                        encode_job_info(info), job.stop.get_token());
    if (!key) {
        co_return key.error();
    }
    if (auto point = job_failpoint("backup.upload_info.after_put"); !point) {
        co_return point.error();
    }
    co_return job_result<void>{};
}

/// Steps the job forward from its journaled state. Yields once the job has ended (FINISHED, or
/// ended by someone else); an error is the job's failure (or the stop that interrupted it).
io::task<job_result<void>> drive(job_services& s, live_job& job) {
    for (;;) {
        if (job.stop.stop_requested()) {
            co_return make_job_error(status_code::common_error, "stopped");
        }
        if (s.pause_in == job.record.state) {
            co_await io::sleep(std::chrono::hours(24), job.stop.get_token());
            co_return make_job_error(status_code::common_error, "stopped");
        }
        job_record next = job.record;
        job_result<void> step;
        switch (job.record.state) {
        case job_state::pending:
            next.state = job_state::snapshoting;
            break;
        case job_state::snapshoting:
            step = co_await take_snapshot(s, job);
            if (step) {
                step = job_failpoint("backup.snapshot.after_links");
            }
            next.state = job_state::upload_snapshot;
            next.snapshot_finished_ms = unix_now_ms();
            break;
        case job_state::upload_snapshot: {
            auto cut = co_await read_cut(s, job);
            if (!cut) {
                step = cut.error();
                break;
            }
            next.files_total = cut->files.size();
            next.bytes_total = 0;
            for (const auto& f : cut->files) {
                next.bytes_total += f.size;
            }
            next.state = job_state::uploading;
            break;
        }
        case job_state::uploading:
            step = co_await upload_files(s, job, next);
            next.state = job_state::save_meta;
            next.upload_finished_ms = unix_now_ms();
            break;
        case job_state::save_meta:
            step = co_await save_meta(s, job, next);
            next.state = job_state::upload_info;
            // Fixed here and journaled, so a resumed UPLOAD_INFO writes the same info object.
            if (next.ttl_s > 0) {
                next.expire_time_ms = unix_now_ms() + next.ttl_s * 1000;
            }
            break;
        case job_state::upload_info:
            step = co_await upload_info(s, job);
            next.state = job_state::finished;
            next.finished_ms = unix_now_ms();
            next.status = job_error{status_code::ok, ""};
            break;
        default:
            co_return job_result<void>{};  // FINISHED or CANCELLED: nothing to do
        }
        if (!step) {
            co_return step.error();
        }
        auto moved = co_await advance(s, job, std::move(next));
        if (!moved) {
            co_return moved.error();
        }
        if (!*moved) {
            co_return job_result<void>{};  // ended meanwhile (cancel, timeout)
        }
    }
}

/// A job that failed after writing its info object (in UPLOAD_INFO, before FINISHED was
/// journaled) must not leave its snapshot listed as complete.
io::task<bool> withdraw_info(const repository_access& repo, const job_record& r, std::stop_token stop) {
    auto store = repo.open();
    if (!store) {
        TV_LOG_WARN("backup {}: could not check for its info object: {}", r.label, store.error().message);
        co_return false;
    }
    auto listed = co_await (*store)->list(remote::info_key_base(repo.root, r.label, r.timestamp), stop);
    if (!listed) {
        TV_LOG_WARN("backup {}: could not check for its info object: {}", r.label, listed.error().message);
        co_return false;
    }
    std::vector<std::string> keys;
    for (const auto& object : *listed) {
        keys.push_back(object.key);
    }
    if (!keys.empty()) {
        auto removed = co_await (*store)->remove(keys, stop);
        if (!removed) {
            TV_LOG_WARN("backup {}: could not remove its info object: {}", r.label, removed.error().message);
            co_return false;
        }
        TV_LOG_INFO("backup {}: removed the info object of the cancelled snapshot", r.label);
    }
    co_return true;
}

/// After CANCELLED: withdraw the info, say what was stored (a partial manifest, for later backups
/// to reuse), then release the links and forget the progress. Not under the job's stop, which
/// has fired, but under the server's: cut short by a stop or by a store that cannot withdraw
/// the info, the progress stays and the next start ends it (job_tracker::open).
io::task<void> clean_up_cancelled(job_services& s, live_job& job) {
    io::crash_point("backup.cancel.before_cleanup");
    const job_record& r = job.record;
    std::stop_token closing = s.closing.get_token();
    // The record has the stored files journaled while the job ran: the store's, with files
    // stored while the job wound down, unless a BACKUP of the database submitted since the end
    // replaced it; then the one end_job kept.
    std::optional<job_record> journaled = job.final_record;
    if (auto it = s.store.jobs().find(r.id); it != s.store.jobs().end()) {
        journaled = it->second;
    }
    // First: until it goes, the cancelled snapshot is listed OK and can be restored. Tried until
    // it goes, the repository is dropped, or the server stops (the next start tries again).
    for (auto pause = std::chrono::seconds(1); !r.manifest_key.empty();
         pause = std::min(2 * pause, std::chrono::seconds(60))) {
        auto current = find_repository(s.catalog, r.repository);
        if (!current) {
            break;
        }
        bool withdrawn = co_await withdraw_info(*current, r, closing);
        if (withdrawn) {
            break;
        }
        if (closing.stop_requested()) {
            TV_LOG_WARN("backup {}: its end is finished at the next start", r.label);
            co_return;
        }
        TV_LOG_WARN("backup {}: trying again in {} s to remove its info object", r.label, pause.count());
        co_await io::sleep(pause, closing);
    }
    auto repo = find_repository(s.catalog, r.repository);
    auto cut = co_await read_job_record(cut_path(s, r.id), {});
    if (cut && repo && journaled && !journaled->stored.empty()) {
        if (auto decoded = decode_cut(*cut)) {
            auto where = stored_locations(*journaled, *decoded, repo->root, s.catalog.cluster_id());
            snapshot_manifest partial = make_manifest(r, *decoded, s.catalog.cluster_id(), where, false);
            if (auto store = repo->open()) {
                auto put = co_await put_checksummed(**store,
                                                    remote::manifest_key_base(repo->root, r.label, r.timestamp) +
                                                        "_partial",
                                                    encode_manifest(partial), closing);
                if (!put) {
                    TV_LOG_WARN("backup {}: could not save the partial manifest: {}", r.label, put.error().message);
                }
            }
        }
    }
    if (closing.stop_requested()) {
        co_return;  // the server is stopping: the next start ends it
    }
    if (auto released = co_await release_snapshot(s.data_dir, r.id); !released) {
        TV_LOG_WARN("backup {}: {}", r.label, released.error().message);
    }
    if (auto cleared = co_await s.store.clear_progress(r.id); !cleared) {
        TV_LOG_WARN("backup {}: {}", r.label, cleared.error().message);
    }
}

/// Writes the lease, then waits while a DROP SNAPSHOT holds a drop lease: once this returns, no
/// drop deletes data until the lease is released or lapses.
io::task<job_result<held_lease>> take_lease(job_services& s, live_job& job, int64_t start_ms) {
    auto repo = find_repository(s.catalog, job.record.repository);
    if (!repo) {
        co_return repo.error();
    }
    auto store = job.repository_store(*repo);
    if (!store) {
        co_return store.error();
    }
    held_lease held{*store, lease_key(repo->root, lease_kind::backup, s.catalog.cluster_id(),
                                                 std::to_string(job.record.id))};
    std::stop_token stop = job.stop.get_token();
    bool told = false;
    for (;;) {
        held.clock.written_ms = lease_clock::now_ms();
        auto written = co_await write_lease(*held.store, held.key, lease_kind::backup, job.record.label, start_ms, stop);
        if (!written) {
            co_return from_remote(written.error(), "write the backup's lease");
        }
        auto drop = co_await live_drop_lease(*held.store, repo->root, held.key, unix_now_ms(),
                                                s.lease_timeout_ms, stop);
        if (!drop) {
            co_return from_remote(drop.error(), "list leases");
        }
        if (!*drop) {
            co_return held;
        }
        if (!told) {
            TV_LOG_INFO("backup {}: waiting for DROP SNAPSHOT to finish in repository {} ({})", job.record.label,
                        repo->name, **drop);
            told = true;
        }
        (void)co_await io::sleep(std::chrono::seconds(1), stop);
        if (stop.stop_requested()) {
            co_return make_job_error(status_code::common_error, "stopped");
        }
    }
}

/// take_lease for io::when_all, which runs task<void>s: the result comes out through `out`.
io::task<void> take_lease_into(job_services& s, live_job& job, int64_t start_ms,
                               std::optional<job_result<held_lease>>& out) {
    out = co_await take_lease(s, job, start_ms);
}

/// The sweep is housekeeping: what it throws is logged, never the job's failure (it runs
/// outside drive_catching).
io::task<void> sweep_quietly(job_services& s, live_job& job) {
    if (auto pause = io::failpoint_delay("backup.sweep.before"); pause.count() > 0) {
        (void)co_await io::sleep(pause, job.stop.get_token());
    }
    try {
        co_await sweep_repository(s, job);
    } catch (const std::exception& e) {
        TV_LOG_WARN("backup {}: the sweep of interrupted writes failed: {}", job.record.label, e.what());
    }
}

/// The lease, and beside it (they touch different objects: a round trip each on a WAN) the
/// sweep of what interrupted writes left, before the job first writes its data. Nothing
/// refreshes the lease until this returns, and a sweep can be long (pages of uploads to abort
/// on a slow store): when it outlasts a refresh period the lease is taken again, written and
/// checked for a drop, so the job never reads the repository under a lease that may have
/// lapsed.
io::task<job_result<held_lease>> prepare_repository(job_services& s, live_job& job, int64_t start_ms) {
    std::optional<job_result<held_lease>> taken;
    co_await io::when_all(take_lease_into(s, job, start_ms, taken), sweep_quietly(s, job));
    if (*taken && lease_clock::now_ms() - (*taken)->clock.written_ms >= lease_refresh_period(s.lease_timeout_ms).count()) {
        co_return co_await take_lease(s, job, start_ms);
    }
    co_return std::move(*taken);
}

io::task<void> drive_then_stop(job_services& s, live_job& job, job_result<void>& out, std::stop_source& done) {
    out = co_await drive_catching(drive(s, job));
    done.request_stop();
}

}  // namespace

io::task<void> run_backup(job_services& services, std::shared_ptr<live_job> job) {
    job_result<void> driven;
    std::optional<held_lease> lease;
    if (job->record.state != job_state::finished && job->record.state != job_state::cancelled) {
        const int64_t start_ms = unix_now_ms();
        auto taken = co_await prepare_repository(services, *job, start_ms);
        if (taken) {
            lease.emplace(std::move(*taken));
            job->lease = &lease->clock;
            std::stop_source done;
            co_await io::when_all(drive_then_stop(services, *job, driven, done),
                                  refresh_lease(*lease->store, lease->key, lease_kind::backup, job->record.label,
                                                start_ms, services.lease_timeout_ms, lease->clock, done.get_token()));
            job->lease = nullptr;
        } else {
            driven = taken.error();
        }
    }
    // A failure in UPLOAD_INFO may follow the info object's write: it is withdrawn before the
    // job's end is journaled, so whoever sees CANCELLED never sees the snapshot listed as OK.
    // (clean_up_cancelled withdraws it again: a crash may come between.)
    if (!driven && job->record.state == job_state::upload_info && !job->shutting_down) {
        if (auto repo = find_repository(services.catalog, job->record.repository)) {
            (void)co_await withdraw_info(*repo, job->record, services.closing.get_token());
        }
    }
    bool ended = co_await settle(services, *job, driven, "backup");
    if (!ended) {
        co_return;
    }
    if (job->record.state == job_state::cancelled) {
        co_await clean_up_cancelled(services, *job);
    }
    if (job->record.state == job_state::finished) {
        if (auto released = co_await release_snapshot(services.data_dir, job->record.id); !released) {
            TV_LOG_WARN("backup {}: {}", job->record.label, released.error().message);
        }
        if (auto cleared = co_await services.store.clear_progress(job->record.id); !cleared) {
            TV_LOG_WARN("backup {}: {}", job->record.label, cleared.error().message);
        }
        TV_LOG_INFO("backup {} finished", job->record.label);
    }
    if (lease) {
        std::vector<std::string> keys(1, lease->key);
        std::stop_token unstoppable;
        if (auto released = co_await lease->store->remove(std::move(keys), unstoppable); !released) {
            TV_LOG_WARN("backup {}: could not release its lease {}: {}", job->record.label, lease->key,
                        released.error().message);
        }
    }
}

io::task<void> finish_cancelled_backup(job_services& services, job_record record) {
    live_job job(record);
    job.final_record = std::move(record);
    co_await clean_up_cancelled(services, job);
}

}  // namespace tv::jobs
