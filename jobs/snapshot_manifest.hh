// SPDX-License-Identifier: Apache-2.0
// A snapshot's manifest: every file it holds, by logical path (db/table/partition/index/tablet/
// file), with its size, row count, XXH3-128, the segment's own checksum, and where its bytes are
// in the repository (a data object, or a range of a pack object) with their encoding. RESTORE
// and VERIFY read it back; decoding is strict, since a repository is untrusted input.
#pragma once

#include "jobs/job_error.hh"
#include "pipeline/hash.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::jobs {

/// How the bytes of a file are stored in their object. Only `none` today; compression and
/// encryption will add encodings without changing the format version.
inline constexpr std::string_view encoding_none = "none";

struct manifest_file {
    std::string db;
    std::string table;
    std::string partition;
    std::string index;
    uint64_t tablet_id = 0;
    std::string name;                  ///< the segment file's name in its tablet
    uint64_t size = 0;
    uint64_t rows = 0;
    /// The partition version its rowset was published at, which orders rowsets (a load's
    /// rowset id is taken when it starts, its version when it publishes); 0 in manifests that
    /// predate it.
    int64_t version = 0;
    pipeline::hash128 hash;            ///< XXH3-128 of the file's bytes
    uint64_t segment_checksum = 0;     ///< the segment's stored XXH3-64 (storage/segment_format.hh)
    std::string key;                   ///< the object holding the bytes
    bool packed = false;               ///< the bytes are [offset, offset + size) of a pack object
    uint64_t offset = 0;
    std::string encoding = std::string(encoding_none);
};

struct snapshot_manifest {
    int64_t format_version = 0;
    std::string label;
    std::string timestamp;     ///< yyyy-MM-dd-HH-mm-ss-SSS
    std::string cluster_id;    ///< the data dir the files came from
    /// False for the partial manifest a cancelled or failed job leaves, listing what it did
    /// upload so a later backup can reuse it.
    bool complete = true;
    std::vector<manifest_file> files;
};

std::string encode_manifest(const snapshot_manifest& manifest);

/// Parses and checks a manifest read from `object_key` (named in every error): the format
/// version and encodings must be known, paths must be plain names (no '/', "..", NUL), sizes
/// sane and keys valid object keys.
job_result<snapshot_manifest> decode_manifest(std::string_view text, std::string_view object_key);

/// 32 lowercase hex digits back into a hash; nullopt for anything else.
std::optional<pipeline::hash128> parse_hash128(std::string_view hex);

}  // namespace tv::jobs
