// SPDX-License-Identifier: Apache-2.0
// The job tracker: every BACKUP and RESTORE job of the server, on loop 0 beside the catalog
// (and the VERIFY SNAPSHOT verifications, which hold nothing and are kept in memory).
// It checks and journals submissions (one running job per database, and one for the external
// catalogs), runs each job as a coroutine, ends them on CANCEL or timeout, shows them with
// their live progress, and at start-up resumes the jobs a stop or a crash interrupted.
#pragma once

#include "io/gate.hh"
#include "io/task.hh"
#include "jobs/backup_plan.hh"
#include "jobs/job_error.hh"
#include "jobs/job_record.hh"
#include "jobs/live_job.hh"
#include "jobs/restore_plan.hh"
#include "jobs/snapshot_drop.hh"
#include "jobs/snapshot_verify.hh"
#include "storage/catalog.hh"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tv::jobs {

struct tracker_options {
    std::string data_dir;
    int64_t default_timeout_s = 86400;  ///< backup_job_default_timeout
    packing_options packing;
    /// Repository garbage collection and leases (DROP SNAPSHOT, and every BACKUP's lease).
    gc_options gc;
    /// The server's upload settings as they are when a transfer starts.
    std::function<pipeline::transfer_options()> upload_options;
    std::function<pipeline::transfer_options()> download_options;
    /// The start-up sweep of tablet files nothing references (storage::catalog::
    /// sweep_orphan_files), run by open() after every resumed restore has said which tablets it
    /// placed already and before any job runs. The server opens its catalog without sweeping and
    /// sets this.
    bool sweep_orphan_files = false;
};

/// A job as SHOW BACKUP / SHOW RESTORE print it: the record and, while it runs, its progress.
struct job_view {
    job_summary record;
    bool running = false;
    uint64_t files_done = 0;
    uint64_t bytes_done = 0;
    double current_rate = 0;             ///< bytes per second over the last seconds
    uint64_t rate_limit = 0;             ///< bytes per second in force; 0: none
    std::optional<int64_t> eta_s;        ///< while uploading at a known rate
    uint64_t retries = 0;                ///< requests the store sent again, in this process's run of it
    std::string last_retry;              ///< why the last of them failed
    uint64_t files_failed = 0;           ///< files whose transfer failed, in this process's run of it
};

class job_tracker {
public:
    /// Opens the job store, removes snapshot links of jobs that no longer run, sweeps the tablet
    /// files nothing references (tracker_options::sweep_orphan_files), and resumes every job that
    /// had not ended.
    static io::task<job_result<std::unique_ptr<job_tracker>>> open(storage::catalog& catalog,
                                                                   pipeline::transfer_engine& transfers,
                                                                   tracker_options options);
    ~job_tracker();
    job_tracker(const job_tracker&) = delete;
    job_tracker& operator=(const job_tracker&) = delete;

    /// Checks `request` (StarRocks' messages), journals the job as PENDING and starts it;
    /// yields its id. The job is the database's last job (SHOW BACKUP) when this returns.
    io::task<job_result<uint64_t>> submit_backup(backup_request request);

    /// Reads the snapshot's info (StarRocks' errors when it is not there), chooses what to
    /// restore (spec §6.1 errors), journals the job as PENDING and starts it; yields its id. A
    /// snapshot whose meta or manifest is damaged gives a job that is CANCELLED at once, its
    /// Status naming the object, as a failed pre-check does in StarRocks.
    io::task<job_result<uint64_t>> submit_restore(restore_request request);

    /// Cancels the running job of that type of `db` ("" = the external-catalog job).
    io::task<job_result<void>> cancel(job_type type, std::string db);

    /// The last job of each database (or of `db` only) when it is of `type`, by database name.
    std::vector<job_view> list(job_type type, const std::optional<std::string>& db) const;

    /// When each database's last FINISHED backup finished (ms since the epoch), kept when a
    /// later job of the database fails or replaces it ("" = the external catalogs).
    const std::map<std::string, int64_t>& last_successful_backups() const noexcept;

    /// The job that has not ended and holds `object` of `db` (`object` empty: anything in the
    /// database): renames, SWAP and DROP of what a job holds are refused (see
    /// storage::catalog::set_hold_finder, which open() installs). A backup holds the objects it
    /// backs up, a restore the names it restores into, both from submission to their end.
    std::optional<storage::job_hold> holder(std::string_view db, std::string_view object) const;

    /// What DROP SNAPSHOT runs with: the configured keys, and the test crash point.
    const gc_options& drop_options() const { return _options.gc; }

    /// ADMIN VERIFY SNAPSHOT's verifications (SHOW VERIFY, CANCEL VERIFY).
    verify_registry& verifications() { return *_verifications; }
    const verify_registry& verifications() const { return *_verifications; }

    /// A job that has not ended uses the repository (DROP REPOSITORY waits for it).
    bool repository_in_use(std::string_view name) const;

    /// Stops every job where it is (each resumes at the next start) and closes the store.
    io::task<void> close();

private:
    job_tracker() = default;
    void start(std::shared_ptr<live_job> job);
    /// The one-job rule for `owner` (a database, or "" for external catalogs).
    job_result<void> check_one_job(const std::string& owner) const;
    /// Gives `record` a durable id and journals it.
    io::task<job_result<void>> journal_new(job_record& record);
    io::task<void> run_job(std::shared_ptr<live_job> job);
    io::task<void> watch_timeout(std::shared_ptr<live_job> job);
    job_view view_of(const job_record& record) const;

    tracker_options _options;
    pipeline::transfer_engine* _transfers = nullptr;
    std::unique_ptr<job_store> _store;
    std::unique_ptr<job_services> _services;
    std::unique_ptr<verify_registry> _verifications;
    /// Jobs started by this process, by id (kept after they end, for their last numbers, while
    /// the store keeps them).
    std::map<uint64_t, std::shared_ptr<live_job>> _live;
    storage::serial_lock _submit_lock;
    io::gate _gate;
};

}  // namespace tv::jobs
