// SPDX-License-Identifier: Apache-2.0
// ADMIN VERIFY SNAPSHOT: checks that a snapshot in a repository would restore, without writing
// anything. quick: its info, meta and manifest read and parse, and every data object the
// manifest names is there with the size it needs (one listing of the data prefix). full: also
// every byte of those objects read into memory under the download limits, each file's XXH3-128
// compared with the manifest's and each segment's own checksums checked. The statement runs
// the verification and answers with its problems; verify_registry keeps running and recent
// verifications for SHOW VERIFY and CANCEL VERIFY, in memory only (a verification holds
// nothing, so none survives a restart, and none is shown as running after one).
#pragma once

#include "io/gate.hh"
#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/repository_access.hh"
#include "pipeline/progress.hh"
#include "pipeline/throttle.hh"
#include "pipeline/transfer.hh"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace tv::jobs {

enum class verify_mode { quick, full };
enum class verify_state { running, finished, cancelled };

std::string_view verify_mode_name(verify_mode mode) noexcept;    ///< "quick", "full"
std::string_view verify_state_name(verify_state state) noexcept;  ///< "RUNNING", "FINISHED", "CANCELLED"

struct verify_properties {
    std::optional<std::string> backup_timestamp;  ///< none: the label's only snapshot, as RESTORE
    verify_mode mode = verify_mode::quick;
    int64_t max_download_speed_kbps = 0;  ///< this verification's own limit; 0: only the engine's
};

/// `backup_timestamp`, `mode` and `max_download_speed_kbps`; "Unknown verify job properties:
/// [...]" for other keys.
job_result<verify_properties> parse_verify_properties(const std::vector<std::pair<std::string, std::string>>& props);

/// One thing wrong with the snapshot: the object at fault, the snapshot file it holds (its
/// db/table/partition/index/tablet/name path; "" when the problem is the object's), and what.
struct verify_problem {
    std::string object;
    std::string file;
    std::string problem;
};

/// A verification while it runs and after: what SHOW VERIFY prints.
struct verify_job {
    uint64_t id = 0;
    std::string label;
    std::string repository;
    verify_mode mode = verify_mode::quick;
    int64_t started_ms = 0;
    std::atomic<int64_t> finished_ms{0};
    std::atomic<verify_state> state{verify_state::running};
    /// Files and bytes checked (bytes: read, in full mode), the read rate.
    pipeline::transfer_progress progress;
    pipeline::throttle limit;  ///< its own max_download_speed_kbps (0: only the engine's)
    std::stop_source stop;

    std::vector<verify_problem> problems() const;
    size_t problem_count() const;
    std::string status() const;  ///< why it was cancelled, "" otherwise
    std::string timestamp() const;  ///< the snapshot's, once chosen
    void add_problem(verify_problem p);
    void set_status(std::string s);
    void set_timestamp(std::string ts);

private:
    mutable std::mutex _mutex;
    std::vector<verify_problem> _problems;
    std::string _status;
    std::string _timestamp;
};

/// The server's verifications, kept in memory: running ones, and the last finished ones.
class verify_registry {
public:
    explicit verify_registry(pipeline::transfer_engine& transfers) : _transfers(transfers) {}

    /// Verifies `label` of `repo` and yields its problems by object and file (empty: none found). `caller` stops
    /// it (the client went away, KILL QUERY), as CANCEL VERIFY does. Errors, as RESTORE's: bad
    /// properties, no such snapshot, a store that does not answer; a cancelled verification
    /// fails with "cancelled".
    io::task<job_result<std::vector<verify_problem>>> run(repository_access repo, std::string label,
                                                          std::vector<std::pair<std::string, std::string>> props,
                                                          std::stop_token caller);

    /// Running and recent verifications, oldest first; of `repository` only when given.
    std::vector<std::shared_ptr<const verify_job>> list(const std::optional<std::string>& repository) const;

    /// Stops the running verifications (of `repository` only when given); yields how many.
    size_t cancel(const std::optional<std::string>& repository);

    /// The bytes per second `job` reads at most now: the lower of the engine's download limit
    /// and its own (0: neither limits).
    uint64_t download_limit(const verify_job& job) const;

    /// Refuses new verifications and waits for the running ones (cancel() them first).
    io::task<void> close() { co_await _gate.close(); }

    /// Finished verifications kept for SHOW VERIFY.
    static constexpr size_t kept_finished = 50;

private:
    std::shared_ptr<verify_job> add(std::shared_ptr<verify_job> job);

    pipeline::transfer_engine& _transfers;
    io::gate _gate;  ///< the running verifications (on loop 0, as the tracker)
    mutable std::mutex _mutex;
    std::deque<std::shared_ptr<verify_job>> _jobs;
    uint64_t _next_id = 1;
};

}  // namespace tv::jobs
