// SPDX-License-Identifier: Apache-2.0
// The data dir's cluster id: a random id made once, when the data dir is first opened, and kept
// in <data_dir>/cluster_id. Repositories key data objects by it (__data/<cluster_id>/...), so
// that files of two servers sharing a repository never collide, and a file one server already
// uploaded is recognised as the same bytes.
#pragma once

#include "io/task.hh"
#include "storage/error.hh"

#include <string>

namespace tv::storage {

/// Reads <data_dir>/cluster_id, creating it durably with a new random id (32 lowercase hex
/// digits) when it is missing. A file that holds anything else is corrupt_metadata.
io::task<storage_result<std::string>> open_cluster_id(std::string data_dir);

}  // namespace tv::storage
