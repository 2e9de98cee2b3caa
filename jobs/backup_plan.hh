// SPDX-License-Identifier: Apache-2.0
// What a BACKUP statement asks for, checked against the catalog at submission (StarRocks'
// messages), and the snapshot cut: the chosen partitions' files at their visible versions, the
// objects' definitions and the job-info skeleton, all taken in one synchronous step on loop 0,
// so no load publishes in the middle of it.
#pragma once

#include "jobs/job_error.hh"
#include "jobs/job_info.hh"
#include "jobs/job_record.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tv::storage {
class catalog;
}

namespace tv::jobs {

enum class object_kind { table, materialized_view, view, function };

/// One entry of ON (...) / EXCLUDE (...), as written.
struct requested_object {
    object_kind kind = object_kind::table;
    bool all = false;   ///< ALL TABLES, ALL VIEWS, ...
    bool bare = false;  ///< the old form without an object type word
    std::string db;     ///< a qualified name's database, when written
    std::string name;
    std::vector<std::string> partitions;
    std::optional<std::string> alias;
};

struct backup_request {
    std::string db;  ///< the database; "" for an external-catalog backup
    std::string label;
    std::string repository;
    bool exclude = false;                   ///< EXCLUDE (...) instead of ON (...)
    std::vector<requested_object> objects;  ///< empty without ON: the whole database
    bool catalog_job = false;
    bool all_catalogs = false;
    std::vector<std::string> catalogs;
    std::vector<std::pair<std::string, std::string>> properties;
};

struct backup_properties {
    /// `type` = INCREMENTAL: accepted as StarRocks accepts it. Every backup is incremental by
    /// construction (a file already stored is reused), so it changes only the error when the
    /// label is taken.
    bool incremental = false;
    int64_t timeout_s = 0;
    int64_t max_upload_speed_kbps = 0;
    int64_t ttl_s = 0;  ///< 0: the snapshot never expires
};

/// PROPERTIES: `type` (FULL or INCREMENTAL), `timeout` (seconds, > 0), `ttl` ("7 DAY"), `max_upload_speed_kbps` (ours); any
/// other key is refused by name.
job_result<backup_properties> parse_backup_properties(const std::vector<std::pair<std::string, std::string>>& props,
                                                      int64_t default_timeout_s);

struct resolved_backup {
    backup_selection selection;
    std::string objects_text;  ///< SHOW BACKUP's BackupObjs
};

/// Checks the request against the catalog and says what it backs up.
job_result<resolved_backup> resolve_backup(const storage::catalog& catalog, const backup_request& request);

/// One file of the snapshot.
struct cut_file {
    std::string db;
    std::string table;
    std::string partition;
    std::string index;
    uint64_t tablet_id = 0;
    std::string name;
    uint64_t size = 0;
    uint64_t rows = 0;
    uint64_t segment_checksum = 0;
    std::string source_path;  ///< the published file (before the snapshot links it)
    int64_t version = 0;      ///< the version its rowset was published at
};

/// The snapshot: fixed once, kept durable under the job's snapshot directory so a resumed job
/// uploads exactly it.
struct snapshot_cut {
    std::vector<cut_file> files;
    job_info info;      ///< without keys and cluster id, filled when the meta is saved
    std::string meta;   ///< the objects' definitions (storage's backup meta JSON)
};

/// Takes the cut of `job` from the catalog as it is now (synchronously: call on the catalog's
/// loop). A chosen object dropped since submission fails the job.
job_result<snapshot_cut> capture_snapshot(const storage::catalog& catalog, const job_record& job);

std::string encode_cut(const snapshot_cut& cut);
job_result<snapshot_cut> decode_cut(std::string_view text);

}  // namespace tv::jobs
