// SPDX-License-Identifier: Apache-2.0
// A repository's own files in its store: the root `__tabletvault_repository_<name>/` under the
// location and its `__repo_info`, written when a repository is created on an empty location and
// read when one is created (READ ONLY or not) on a location that already has it.
#pragma once

#include "remote/object_store.hh"
#include "remote/repository_config.hh"

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

namespace tv::remote {

inline constexpr std::string_view repository_dir_prefix = "__tabletvault_repository_";
inline constexpr std::string_view repo_info_name = "__repo_info";

/// "__tabletvault_repository_<name>": the key prefix of everything the repository holds.
std::string repository_root(std::string_view name);

/// `__repo_info`: JSON {"name", "create_time" ("yyyy-MM-dd HH:mm:ss", UTC, StarRocks' form),
/// "create_time_ms", "tabletvault_version"}.
struct repo_info {
    std::string name;
    int64_t create_time_ms = 0;
    std::string version;
};

std::string encode_repo_info(const repo_info& info);
remote_result<repo_info> decode_repo_info(std::string_view text);

/// The store a configuration names, rooted at its location.
remote_result<std::unique_ptr<object_store>> open_store(const repository_config& config);

/// How long one S3 request (sending it and reading the whole answer) may take before it is
/// abandoned and, like a reset, retried: for stores opened from now on (s3_request_timeout_seconds).
void set_s3_request_timeout(std::chrono::milliseconds timeout);

/// The TCP congestion control connections to S3 stores send with, for stores opened from now on
/// (tcp_congestion_control; empty: the kernel's default). Checked by the caller
/// (io::check_congestion_control).
void set_tcp_congestion_control(std::string name);

/// The CREATE REPOSITORY check that the store answers: reads `__repo_info` when it is there
/// (adopting its creation time), else writes it with `now_ms`, unless `read_only`, in which
/// case a missing one is an error. Yields the info in the store. `stop` ends the check.
io::task<remote_result<repo_info>> ping_repository(object_store& store, std::string name, bool read_only,
                                                   int64_t now_ms, std::stop_token stop = {});

}  // namespace tv::remote
