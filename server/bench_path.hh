// SPDX-License-Identifier: Apache-2.0
// `tabletvault bench-path`: the storage-path benchmark users run (see bench_path.cc).
#pragma once

#include "remote/repository_config.hh"

#include <cstdint>
#include <string>

namespace tv::server {

struct bench_path_args {
    std::string location;             ///< file:///dir, /dir or s3://bucket/prefix
    remote::property_list properties;  ///< as CREATE REPOSITORY takes them
    uint64_t files = 16;
    uint64_t size = 64ull << 20;
    unsigned concurrency = 0;          ///< files in flight; 0 = the *_worker_count defaults
    std::string direction = "both";    ///< up, down or both
    int64_t limit_kbps = 0;            ///< both directions; 0 = unlimited
    uint64_t part_size = 0;            ///< 0 = multipart_part_size's default
    uint64_t memory = 0;               ///< 0 = transfer_memory_limit's default
    std::string work_dir;              ///< where the generated files go; default a temp dir
    /// Keep the generated files (WORK/src/fNNNNNN) and reuse them when they are already there with
    /// the right count and size, so other tools can be measured on the same files.
    bool keep_files = false;
    bool windows = false;              ///< print the achieved rate of every 1-second window
    double change_after_s = 0;         ///< > 0: set the limit to `change_to_kbps` this far into each run
    int64_t change_to_kbps = 0;
};

/// Runs the benchmark and prints its figures; the exit code (0 ok, 1 a transfer failed, 2 bad
/// arguments).
int run_bench_path(const bench_path_args& args);

}  // namespace tv::server
