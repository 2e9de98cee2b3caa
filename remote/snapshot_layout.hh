// SPDX-License-Identifier: Apache-2.0
// Where a snapshot's objects live in a repository:
//
//   __tabletvault_repository_<repo>/
//       __repo_info
//       __ss_<label>/__info_<ts>.<xxh3>        job info JSON (StarRocks' field names); written last
//       __ss_<label>/__meta_<ts>.<xxh3>        every object's definition
//       __ss_<label>/__manifest_<ts>.<xxh3>    every file: logical path, size, XXH3-128, object key
//       __data/<cluster_id>/<tablet_id>/<file> data objects, keyed by identity (shared by snapshots)
//       __data/<cluster_id>/__packs/<name>     small files packed together
//
// <ts> is the job's creation time as yyyy-MM-dd-HH-mm-ss-SSS (UTC), <xxh3> the 32 lowercase hex
// digits of the object's XXH3-128, which readers check.
#pragma once

#include "io/task.hh"
#include "remote/object_store.hh"

#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace tv::remote {

/// The layout's version. A reader refuses snapshots written with a newer one.
inline constexpr int64_t repository_format_version = 1;

inline constexpr std::string_view snapshot_dir_prefix = "__ss_";
inline constexpr std::string_view info_prefix = "__info_";
inline constexpr std::string_view meta_prefix = "__meta_";
inline constexpr std::string_view manifest_prefix = "__manifest_";
inline constexpr std::string_view data_dir_name = "__data";
inline constexpr std::string_view packs_dir_name = "__packs";

/// yyyy-MM-dd-HH-mm-ss-SSS of a Unix time in milliseconds (UTC), as SHOW SNAPSHOT prints it.
std::string snapshot_timestamp(int64_t unix_ms);
/// The reverse; nullopt unless `text` is exactly that form.
std::optional<int64_t> parse_snapshot_timestamp(std::string_view text);

/// `<root>/__ss_<label>/`.
std::string snapshot_prefix(std::string_view root, std::string_view label);
/// `<root>/__ss_<label>/__info_<ts>` etc.: the key without its checksum suffix.
std::string info_key_base(std::string_view root, std::string_view label, std::string_view timestamp);
std::string meta_key_base(std::string_view root, std::string_view label, std::string_view timestamp);
std::string manifest_key_base(std::string_view root, std::string_view label, std::string_view timestamp);
/// `<base>.<checksum>`.
std::string with_checksum(std::string_view base, std::string_view checksum_hex);
/// Splits `name.<32 lowercase hex>` into (name, checksum); nullopt when the suffix is not that.
std::optional<std::pair<std::string, std::string>> split_checksum(std::string_view key);

/// `<root>/__data/<cluster>/<tablet>/<file>`.
std::string data_key(std::string_view root, std::string_view cluster_id, uint64_t tablet_id, std::string_view file);
/// `<root>/__data/<cluster>/__packs/<name>`.
std::string pack_key(std::string_view root, std::string_view cluster_id, std::string_view name);

/// One snapshot label's info objects, as SHOW SNAPSHOT lists them.
struct snapshot_listing {
    std::string label;
    /// Timestamps of the valid info objects, ascending; names that do not decode appear as
    /// "Invalid: <name>".
    std::vector<std::string> timestamps;
    /// Info keys by timestamp (valid ones only).
    std::map<std::string, std::string> info_keys;
    /// Meta and manifest keys by timestamp, where one object alone has that timestamp: what its
    /// info object most likely names, to read beside it (the info object has the last word).
    std::map<std::string, std::string> meta_keys;
    std::map<std::string, std::string> manifest_keys;
    /// "OK" when at least one info object is there, else "ERROR: no snapshot".
    std::string status;
};

/// Every label under `root` (a `__ss_<label>/` with any object in it), each with its info
/// objects, ordered by label.
io::task<remote_result<std::vector<snapshot_listing>>> list_snapshots(object_store& store, std::string root,
                                                                      std::stop_token stop = {});

/// `label` alone, listing only `<root>/__ss_<label>/` (one request however many other snapshots
/// the repository holds); nothing when no object is there.
io::task<remote_result<std::optional<snapshot_listing>>> list_snapshot_label(object_store& store, std::string root,
                                                                             std::string label,
                                                                             std::stop_token stop = {});

/// True when anything exists under `<root>/__ss_<label>/` (a label is taken even by a
/// cancelled or unfinished backup, as in StarRocks).
io::task<remote_result<bool>> label_exists(object_store& store, std::string root, std::string label,
                                           std::stop_token stop = {});

}  // namespace tv::remote
