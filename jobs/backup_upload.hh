// SPDX-License-Identifier: Apache-2.0
// BACKUP's UPLOADING step: decides where each snapshot file's bytes will be in the repository
// and sends only what is not there yet.
//
//  - A file this job already stored (before a restart) is not sent again.
//  - A file an earlier snapshot of the same data dir stored, with the same size and segment
//    checksum, and whose object is still listed, is reused: identity, not name, decides.
//  - The rest go on the transfer engine: large files one object each (multipart, resumable
//    from their journaled parts), small ones packed together into pack objects.
// Progress is journaled as it happens (stored files, open uploads), a few times a second.
#pragma once

#include "io/task.hh"
#include "jobs/backup_plan.hh"
#include "jobs/live_job.hh"
#include "jobs/repository_access.hh"
#include "jobs/snapshot_manifest.hh"
#include "remote/object_store.hh"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace tv::jobs {

/// Where a file's bytes are in the repository.
struct file_location {
    std::string key;
    pipeline::hash128 hash;
    uint64_t offset = 0;
    bool packed = false;
};

/// Every file of `cut` in the repository: yields one location per file, in cut order. Counts
/// what it reuses and stores in `job`'s live numbers.
io::task<job_result<std::vector<file_location>>> upload_snapshot_files(job_services& services, live_job& job,
                                                                     const repository_access& repo,
                                                                     const snapshot_cut& cut);

/// The manifest of `cut` with its files at `where` (one per file, in order; a file without a
/// location, in a partial manifest, is left out).
snapshot_manifest make_manifest(const job_record& job, const snapshot_cut& cut, const std::string& cluster_id,
                                const std::vector<std::optional<file_location>>& where, bool complete);

/// Stored objects' sizes by key, from a listing of `__data/<cluster>/`.
using stored_sizes = std::unordered_map<std::string, uint64_t>;
stored_sizes sizes_of(const std::vector<remote::object_info>& listed);

/// Whether `f`'s bytes are among the listed objects: its object is as long as the file, or, a
/// pack, reaches past the file's end.
bool holds_bytes(const stored_sizes& sizes, const manifest_file& f);

/// The locations this job has journaled so far (stored files), for a partial manifest.
std::vector<std::optional<file_location>> stored_locations(const job_record& job, const snapshot_cut& cut,
                                                           const std::string& root, const std::string& cluster_id);

}  // namespace tv::jobs
