// SPDX-License-Identifier: Apache-2.0
// A job while it runs: its journaled record (what SHOW prints), its stop, its own rate limit and
// live progress; and what every job runs with (the catalog, the job store, the transfer
// engine). State changes go through advance() and end_job(), which journal before they show
// and never move a job that has ended (a cancel or a timeout may end it while it works).
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/job_record.hh"
#include "pipeline/progress.hh"
#include "pipeline/throttle.hh"
#include "pipeline/transfer.hh"
#include "storage/serial_lock.hh"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace tv::storage {
class catalog;
}

namespace tv::remote {
class object_store;
}

namespace tv::jobs {

class job_store;
struct snapshot_contents;

/// Sizes below which snapshot files travel packed together, and the packs' size.
struct packing_options {
    uint64_t threshold = 4ull << 20;
    uint64_t pack_size = 32ull << 20;
};

/// What every job runs with. Owned by the tracker, on loop 0.
struct job_services {
    storage::catalog& catalog;
    job_store& store;
    pipeline::transfer_engine& transfers;
    /// The server's transfer settings for uploads as they are now (workers, parts, threshold).
    std::function<pipeline::transfer_options()> upload_options;
    std::function<pipeline::transfer_options()> download_options;  ///< the same, for downloads
    std::string data_dir;
    packing_options packing;
    /// Tests only (TV_TEST_PAUSE_BACKUP_IN / TV_TEST_PAUSE_RESTORE_IN=<STATE>): a job waits on
    /// entering this state until stopped, so a test can kill the server in any state.
    std::optional<job_state> pause_in;
    std::optional<job_state> restore_pause_in;
    /// Serializes "is the job still running? then journal its next state" among the job, a
    /// CANCEL and a timeout.
    storage::serial_lock state_lock;
    /// repository_lease_timeout: a backup's lease lapses this long after its last refresh.
    int64_t lease_timeout_ms = 600'000;
    /// snapshot_gc_grace_period: a multipart upload in the repository that none of our jobs
    /// continues is aborted once it is this old (younger, it may be another server's live one).
    int64_t upload_sweep_grace_ms = 3'600'000;
    /// Fired when the server stops: the work a job does after its own stop has fired (the end
    /// of a cancelled backup) stops here.
    std::stop_source closing;
};

struct repository_access;
struct lease_clock;

struct live_job {
    explicit live_job(job_record r);
    ~live_job();
    live_job(const live_job&) = delete;
    live_job& operator=(const live_job&) = delete;

    /// The repository's store for the job's own steps on loop 0 (the transfer's workers open
    /// their own on their loops), opened at first use and kept: its connections carry from step
    /// to step, where a store per step paid a connection's round trip (two with TLS) each time.
    job_result<remote::object_store*> repository_store(const repository_access& repo);
    /// Makes `store`, which the submission opened on loop 0 for `repository`, the job's: its
    /// connection serves the job's first steps.
    void adopt_repository_store(std::string repository, std::unique_ptr<remote::object_store> store);

    job_record record;  ///< as last journaled
    std::stop_source stop;
    /// The stop came from server shutdown: the job stays in its state and resumes at restart.
    bool shutting_down = false;
    /// A backup's record as the store held it when the job ended (end_job), with the files it
    /// had stored: its end writes their partial manifest, and a BACKUP of the database submitted
    /// meanwhile replaces the record in the store.
    std::optional<job_record> final_record;
    /// Taken up again at a start: the repository may have changed while no lease of this job
    /// was refreshed (another server's DROP SNAPSHOT), so what it stored or chose to reuse is
    /// checked before it is published.
    bool resumed = false;
    /// A running backup's lease on its repository, while held: lapsed, what the job stored or
    /// chose to reuse is checked before it is published, as after a restart. lapses_checked:
    /// the lease's lapses that a check has covered.
    lease_clock* lease = nullptr;
    uint64_t lapses_checked = 0;
    /// A restore's publish record failed in a way that may still have reached the disk (the
    /// catalog journal failed): the job stays in COMMIT, files in place, until a restart replays
    /// the journal and finishes it (the record was applied) or places and publishes again.
    bool outcome_unknown = false;
    pipeline::throttle limit;  ///< this job's max_upload / max_download_speed_kbps (0: only the global limit)
    pipeline::transfer_progress progress;  ///< this run's uploads or downloads
    /// Snapshot files durably in the repository, stored by this job (before a restart too) and
    /// reused from earlier snapshots; bytes_stored counts those stored before this run only (the
    /// transfer's progress counts this run's bytes as they go).
    std::atomic<uint64_t> files_stored{0};
    std::atomic<uint64_t> bytes_stored{0};
    std::atomic<uint64_t> files_reused{0};
    std::atomic<uint64_t> bytes_reused{0};
    /// A restore's snapshot as its submission read and checked it: PENDING plans from it rather
    /// than fetching and decoding the manifest a second time (a job resumed after a restart has
    /// none and reads it).
    std::shared_ptr<const snapshot_contents> submitted_snapshot;

private:
    std::unique_ptr<remote::object_store> _store;
    std::string _store_repository;
};

/// Journals `next` and shows it, unless the job has ended meanwhile: yields false then (the
/// caller winds down and cleans up).
io::task<job_result<bool>> advance(job_services& services, live_job& job, job_record next);

/// Ends a running job as CANCELLED with `why` (journaled first); false when it had already
/// ended, or is a restore in COMMITTING (its data is published; it can only finish). Stops the
/// job's work.
/// `name_state`: the message ends with ", current state: <STATE>" (StarRocks' words for a
/// cancelled restore), the state the job is in once the lock is held.
io::task<job_result<bool>> end_job(job_services& services, live_job& job, job_error why, bool name_state = false);

/// Runs a job's driver. An exception (a bug, an allocation failure) fails the job with its
/// message instead of leaving it in its state until the next restart.
io::task<job_result<void>> drive_catching(io::task<job_result<void>> driver);

/// After a job's state machine returned (`driven`: its failure, if any): a job stopped by
/// shutdown stays in its state (false: it resumes at the next start); a failure is journaled
/// as CANCELLED. True when the job has ended and its caller cleans up. `kind` names it in logs.
io::task<bool> settle(job_services& services, live_job& job, const job_result<void>& driven, std::string_view kind);

int64_t unix_now_ms();

}  // namespace tv::jobs
