// SPDX-License-Identifier: Apache-2.0
// RESTORE's plan against this server's catalog (spec §6.2): which existing tables must match
// the snapshot and which partitions of theirs are overwritten or added, which objects are
// created, under which new ids, and every file to fetch with the new tablet and name it gets.
// The plan is the commit record itself (storage ops::publish_restore) plus the downloads, kept
// durable in the job's directory so a resumed job commits exactly what it staged.
#pragma once

#include "jobs/job_error.hh"
#include "jobs/restore_plan.hh"
#include "pipeline/hash.hh"
#include "storage/catalog_ops.hh"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tv::storage {
class catalog;
}

namespace tv::jobs {

/// One file to fetch: where its bytes are in the repository, what they must hash to, and the
/// new tablet and name it has here.
struct restore_download {
    std::string key;
    bool packed = false;
    uint64_t offset = 0;  ///< in a pack object
    uint64_t size = 0;
    pipeline::hash128 hash;
    uint64_t segment_checksum = 0;
    int64_t tablet_id = 0;
    std::string name;
};

struct restore_staging {
    storage::ops::publish_restore commit;
    std::vector<restore_download> files;
    /// Existing tables of commit.db whose partitions it overwrites or adds: loads and DDL on
    /// them wait for the job.
    std::vector<std::string> locked_tables;
};

/// Checks the selection against the catalog, with StarRocks' messages ("Table t already exist
/// but with different schema, ...", "Partition p in table t has different range with partition
/// in repository", "Table: v has existed and it is not a View", ...), and plans it with new ids
/// taken from the catalog (the caller makes them durable before anything is named with them).
job_result<restore_staging> stage_restore(storage::catalog& catalog, const snapshot_contents& snapshot,
                                          const restore_selection& selection);

std::string encode_staging(const restore_staging& staging);
job_result<restore_staging> decode_staging(std::string_view text);

/// <data_dir>/snapshot/<job>/staging, holding staging_tablet_dir()s.
std::string staging_dir(const std::string& data_dir, uint64_t job_id);

/// <data_dir>/snapshot/<job>/staging/<tablet>: where a restore's files wait for COMMIT, out of
/// sight of queries, loads and the start-up sweep of tablet files.
std::string staging_tablet_dir(const std::string& data_dir, uint64_t job_id, int64_t tablet_id);

}  // namespace tv::jobs
