// SPDX-License-Identifier: Apache-2.0
// What the job store keeps of a job: enough to show it (SHOW BACKUP) and to resume it after a
// restart from the last journaled state, without redoing durable work.
#pragma once

#include "jobs/job_error.hh"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::jobs {

enum class job_type { backup, restore };

/// Every state of both machines (spec §3), in StarRocks' spelling.
enum class job_state {
    pending,
    snapshoting,
    upload_snapshot,
    uploading,
    save_meta,
    upload_info,
    download,
    downloading,
    commit,
    committing,
    finished,
    cancelled,
};

std::string_view job_state_name(job_state s) noexcept;
bool is_done(job_state s) noexcept;
/// The state StarRocks spells `name` ("UPLOADING"), if any.
std::optional<job_state> parse_job_state(std::string_view name) noexcept;

/// What BACKUP's ON clause chose, resolved against the catalog at submission.
struct chosen_table {
    std::string name;
    std::vector<std::string> partitions;  ///< empty: all of them
};

struct backup_selection {
    std::vector<chosen_table> tables;            ///< tables and materialized views with storage
    std::vector<std::string> views;
    std::vector<std::string> materialized_views;  ///< asynchronous MVs (definition; data via tables)
    std::vector<std::string> functions;
    std::vector<std::string> catalogs;           ///< external catalogs
};

/// A snapshot file whose bytes are durably in the repository: which file (its identity, the
/// data key it has when stored alone), where its bytes are (a data object, or a range of a pack
/// object) and its XXH3-128 (hex).
struct stored_file {
    std::string id;
    std::string key;
    std::string hash;
    uint64_t offset = 0;
    bool packed = false;
};

/// A multipart upload in progress: its id and the parts the store has.
struct open_upload {
    std::string upload_id;
    std::map<int, std::pair<std::string, uint64_t>> parts;  ///< number -> (ETag, size)
    uint64_t part_size = 0;  ///< how its parts were cut (0: not recorded, they are not reused)
};

/// What only a RESTORE keeps: SHOW RESTORE's own columns and what its PENDING step plans from.
struct restore_details {
    std::string info_key;            ///< the snapshot's info object
    std::string snapshot_timestamp;  ///< SHOW RESTORE's Timestamp: the backup's
    bool allow_load = false;
    int64_t replication_num = 1;
    int64_t meta_version = -1;
    int64_t starrocks_meta_version = -1;
    int64_t meta_prepared_ms = 0;    ///< 0: not yet (NULL)
    std::string selection;           ///< what it restores, encoded (restore_plan.hh)
};

/// A job as SHOW BACKUP / SHOW RESTORE see it: everything but the per-file state, which holds
/// one entry per file (20,000 in a small-file backup) and which a SHOW must not copy.
struct job_summary {
    uint64_t id = 0;
    job_type type = job_type::backup;
    std::string db;      ///< "" for an external-catalog job
    int64_t db_id = 0;
    std::string label;
    std::string repository;
    std::string timestamp;  ///< yyyy-MM-dd-HH-mm-ss-SSS of create_time_ms
    job_state state = job_state::pending;
    int64_t create_time_ms = 0;
    int64_t snapshot_finished_ms = 0;  ///< 0: not yet (NULL)
    int64_t upload_finished_ms = 0;    ///< a restore's DownloadFinishedTime
    int64_t finished_ms = 0;
    int64_t timeout_s = 0;
    int64_t max_speed_kbps = 0;  ///< this job's own limit; 0: only the global one
    int64_t ttl_s = 0;           ///< a backup's `ttl`; 0: its snapshot never expires
    int64_t expire_time_ms = 0;  ///< fixed when the meta is saved (finish time + ttl); 0: never
    std::string objects_text;    ///< BackupObjs / RestoreObjs as SHOW prints them
    backup_selection selection;
    restore_details restore;
    job_error status{status_code::ok, ""};
    std::string meta_key;
    std::string manifest_key;
    uint64_t files_total = 0;
    uint64_t bytes_total = 0;
    uint64_t files_reused = 0;
    uint64_t bytes_reused = 0;
};

/// A job as the store journals it: the summary and where each file stands.
struct job_record : job_summary {
    /// Files done, keyed by their identity (stored_file::id; a restore: the staged file's
    /// "<tablet>/<name>"), and multipart uploads under way, keyed by object key (for resume).
    std::map<std::string, stored_file> stored;
    std::map<std::string, open_upload> uploads;
};

}  // namespace tv::jobs
