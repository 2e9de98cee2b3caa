// SPDX-License-Identifier: Apache-2.0
// DROP SNAPSHOT: removes the chosen snapshots' info, meta and manifest objects (info first, so
// a half-dropped snapshot is no longer listed as OK), then collects the repository's garbage:
// every data object no remaining manifest references, and packs whose unreferenced share
// passed the repack threshold are rewritten with their live files only. The protocol that makes
// this safe against concurrent backups and crashes is in docs/repository-gc.md.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/repository_access.hh"

#include <cstdint>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

namespace tv::jobs {

/// Which snapshots: by label (none: every label) and by timestamp (exact, or at most); or, when
/// `exact` is set, those (label, timestamp) pairs, skipping any that is already gone (the TTL
/// sweep's choice: another server may have dropped it first).
struct snapshot_choice {
    std::optional<std::set<std::string>> labels;
    std::optional<std::string> timestamp;
    std::optional<std::string> timestamp_at_most;
    std::optional<std::set<std::pair<std::string, std::string>>> exact;
};

struct gc_options {
    int64_t grace_ms = 3'600'000;          ///< snapshot_gc_grace_period
    int64_t lease_timeout_ms = 600'000;    ///< repository_lease_timeout
    int64_t repack_threshold_pct = 50;     ///< snapshot_repack_threshold (0: never repack)
};

struct drop_report {
    uint64_t snapshots_dropped = 0;  ///< (label, timestamp) pairs whose objects were removed
    uint64_t objects_freed = 0;      ///< unreferenced data and pack objects deleted
    uint64_t bytes_freed = 0;        ///< their bytes, plus the garbage repacking reclaimed
    uint64_t objects_kept_young = 0; ///< unreferenced but within the grace period
    uint64_t packs_repacked = 0;
    uint64_t bytes_repacked = 0;     ///< live bytes copied into new packs
    std::string status = "OK";       ///< or why data was kept this time
};

/// Drops the chosen snapshots of `repo` and collects garbage, finishing what an earlier
/// interrupted DROP SNAPSHOT left. Errors: not_found for a named snapshot that is not there,
/// common_error for a snapshot a running backup writes or a repository that cannot be read.
io::task<job_result<drop_report>> drop_snapshots(const repository_access& repo, std::string cluster_id,
                                                 snapshot_choice choice, gc_options options,
                                                 std::stop_token stop = {});

/// The collection step alone, under the caller's drop lease (repository_gc.cc).
io::task<job_result<void>> collect_garbage(remote::object_store& store, const std::string& root,
                                           const gc_options& options, int64_t now_ms, drop_report& report,
                                           std::stop_token stop);

/// Whether an interrupted DROP SNAPSHOT left intents in the repository (any drop finishes them).
io::task<job_result<bool>> has_unfinished_drop(remote::object_store& store, std::string root,
                                               std::stop_token stop = {});

/// Deletes `keys` in batches of 1000.
io::task<job_result<void>> remove_keys(remote::object_store& store, std::vector<std::string> keys,
                                       std::stop_token stop);
}  // namespace tv::jobs
