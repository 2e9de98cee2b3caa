// SPDX-License-Identifier: Apache-2.0
// The job-info JSON of a snapshot (`__info_<ts>.<xxh3>`), with StarRocks' field names (spec §4.4)
// so tools that read StarRocks repositories recognise it, plus our own fields (format version,
// cluster id, where the meta and the manifest are). Its brief form is SHOW SNAPSHOT's Details.
#pragma once

#include "jobs/job_error.hh"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tv::jobs {

struct info_index {
    std::string name;
    int64_t id = 0;
    int64_t schema_hash = 0;
    std::vector<int64_t> tablets;  ///< in bucket order (tablets_order)
};

struct info_partition {
    std::string name;
    int64_t id = 0;
    int64_t version = 0;  ///< the visible version the snapshot fixed
    std::vector<info_index> indexes;
};

/// A table, materialized view or view (a view has no partitions).
struct info_table {
    std::string name;
    int64_t id = 0;
    std::vector<info_partition> partitions;
};

struct job_info {
    std::string name;      ///< the label
    std::string database;  ///< empty for an external-catalog snapshot
    int64_t db_id = 0;
    int64_t backup_time_ms = 0;
    std::vector<info_table> tables;
    std::vector<std::string> functions;
    std::vector<std::string> catalogs;
    int64_t format_version = 0;
    std::string cluster_id;
    std::string meta_key;
    std::string manifest_key;
    /// When the snapshot expires (BACKUP's `ttl`: its finish time plus the ttl), ms since the
    /// epoch; 0: never. Older servers ignore the field, and snapshots they wrote have none.
    int64_t expire_time_ms = 0;
};

std::string encode_job_info(const job_info& info);

/// SHOW SNAPSHOT's Details: names only, no ids, each partition an empty object, pretty-printed
/// with an indent of one space (as StarRocks' Gson prints it).
std::string brief_job_info(const job_info& info);

/// Strict parse of an info object read from `object_key` (named in errors); refuses a newer
/// format version.
job_result<job_info> decode_job_info(std::string_view text, std::string_view object_key);

}  // namespace tv::jobs
