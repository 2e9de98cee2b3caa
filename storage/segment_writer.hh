// SPDX-License-Identifier: Apache-2.0
// Writes one column_batch as an immutable segment file: temp name, fsync, rename, directory fsync.
#pragma once

#include "io/task.hh"
#include "storage/column_batch.hh"
#include "storage/segment_format.hh"

#include <cstdint>
#include <string>

namespace tv::storage {

/// What a written segment is: enough to publish it in the journal and list it in a manifest.
struct segment_info {
    std::string path;
    uint64_t size = 0;           // bytes of the whole file
    uint64_t row_count = 0;
    uint64_t checksum = 0;       // the stored file checksum: XXH3-64 of every byte before it
};

/// Writes `batch` to `path` (see segment_format.hh), durably, as an io::durable_file: the bytes
/// go to a temporary name, are fdatasynced, renamed to `path` without replacing anything already there (a published
/// segment is never modified: storage_errc::already_exists), and the directory is fsynced. On any
/// failure nothing is left at `path` and the temp file is removed. The directory must exist.
/// `batch` must outlive the returned task.
io::task<storage_result<segment_info>> write_segment(std::string path, const column_batch& batch,
                                                     uint32_t schema_version);

/// The footer write_segment() would store for `batch`, blocks placed from segment_header_size
/// on; exposed for tests and for sizing segments before writing them.
segment_footer plan_segment(const column_batch& batch, uint32_t schema_version);

}  // namespace tv::storage
