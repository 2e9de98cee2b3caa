// SPDX-License-Identifier: Apache-2.0
// What a RESTORE reads before it plans anything: its PROPERTIES, which snapshot of the label it
// restores, and that snapshot's three objects (info, meta, manifest), each checked against the
// XXH3-128 in its name and decoded strictly, since a repository is untrusted input. Every
// refusal names the object at fault.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/job_info.hh"
#include "jobs/snapshot_manifest.hh"
#include "remote/object_store.hh"
#include "storage/catalog_ops.hh"

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace tv::jobs {

struct restore_properties {
    /// yyyy-MM-dd-HH-mm-ss-SSS; none: the label's only snapshot (an error when it has several).
    std::optional<std::string> backup_timestamp;
    int64_t replication_num = 1;  ///< accepted and shown; one copy is all a server keeps
    bool allow_load = false;      ///< accepted and shown (StarRocks ignores it too)
    int64_t meta_version = -1;
    int64_t starrocks_meta_version = -1;
    int64_t timeout_s = 0;
    int64_t max_download_speed_kbps = 0;  ///< this job's own limit; 0: only the global one
};

/// `backup_timestamp`, `replication_num`, `allow_load`, `meta_version`, `starrocks_meta_version`,
/// `timeout` (seconds, > 0) and our `max_download_speed_kbps`; StarRocks' messages for bad values
/// and "Unknown restore job properties: [...]" for other keys.
job_result<restore_properties> parse_restore_properties(const std::vector<std::pair<std::string, std::string>>& props,
                                                        int64_t default_timeout_s);

/// A snapshot's objects as its label's listing shows them: the info object, and the meta and
/// manifest it most likely names (empty when the listing cannot tell), to be read beside it.
struct snapshot_keys {
    std::string info;
    std::string likely_meta;
    std::string likely_manifest;
};

/// The objects of `label`'s snapshot at `timestamp`, or of its only snapshot when none is given,
/// from one listing of the label alone. Errors: no such snapshot (NOT_FOUND, "Failed to get
/// info of snapshot 'L' because: ... Maybe specified wrong backup timestamp"), or several and
/// none chosen (the message lists their timestamps).
io::task<job_result<snapshot_keys>> choose_snapshot(remote::object_store& store, std::string root, std::string label,
                                                    std::optional<std::string> timestamp, std::stop_token stop = {});

/// The object at `key`, whose name ends in the XXH3-128 of its bytes: BAD_FILE naming the key
/// and both hashes when they differ (a damaged or truncated object).
io::task<job_result<std::string>> read_checked(remote::object_store& store, std::string key,
                                               std::stop_token stop = {});

struct snapshot_contents {
    std::string info_key;
    job_info info;
    storage::backup_meta meta;
    snapshot_manifest manifest;
};

/// Reads the info object and the meta and manifest it names, all checked; refuses a newer
/// repository format, and a manifest of another snapshot. The likely meta and manifest are read
/// at once with the info object (one round trip where there were three) and kept only when it
/// names them. On failure, `failed_key` (when given) is the object at fault.
io::task<job_result<snapshot_contents>> read_snapshot(remote::object_store& store, snapshot_keys keys,
                                                      std::stop_token stop = {}, std::string* failed_key = nullptr);

}  // namespace tv::jobs
