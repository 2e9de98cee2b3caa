// SPDX-License-Identifier: Apache-2.0
// A backup's local snapshot: hard links of the chosen segment files under
// <data_dir>/snapshot/<job>/<tablet>/<file>. Segment files are immutable, so a link pins the
// exact bytes of the snapshot while DROP, TRUNCATE or INSERT OVERWRITE remove the originals;
// the upload reads the links. Released when the job ends; links of jobs that no longer exist
// are swept at start-up.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"

#include <cstdint>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

namespace tv::jobs {

struct snapshot_link {
    uint64_t tablet_id = 0;
    std::string name;         ///< the segment file's name
    std::string source_path;  ///< the published file in the tablet directory
};

/// <data_dir>/snapshot
std::string snapshots_root(const std::string& data_dir);
/// <data_dir>/snapshot/<job>: the job's links, and its own records (the cut, the manifest).
std::string job_snapshot_dir(const std::string& data_dir, uint64_t job_id);
/// <data_dir>/snapshot/<job>/<tablet>/<name>
std::string snapshot_file_path(const std::string& data_dir, uint64_t job_id, uint64_t tablet_id,
                               const std::string& name);

/// Links every file into the job's snapshot directory (a link already there, from a run
/// interrupted by a crash, is kept) and makes the new directory entries durable. The caller
/// keeps the source files pinned (storage's file_reclaimer) until this returns.
io::task<job_result<void>> link_snapshot(std::string data_dir, uint64_t job_id, std::vector<snapshot_link> files,
                                         std::stop_token stop = {});

/// How link_into makes the new directory entries durable.
enum class link_sync {
    /// An fsync of each tablet directory (a BACKUP's snapshot: it holds the catalog's file pin
    /// meanwhile, and must not wait for, or fail on, other writers' data).
    each_directory,
    /// Above 16 tablet directories, one syncfs of their file system instead, each fsync being a
    /// device cache flush of its own (a restore's COMMIT, whose staged data is synced already).
    file_system_when_many,
};

/// Links each file as <root>/<tablet>/<name> (a link already there is kept) and makes the new
/// directory entries durable: link_snapshot() into the job's directory, and a restore's COMMIT
/// from its staging directory into the tablet directories.
io::task<job_result<void>> link_into(std::string root, std::vector<snapshot_link> files,
                                     link_sync sync = link_sync::each_directory, std::stop_token stop = {});

/// What move_directories() found for the names it was given, besides the ones it moved.
struct directory_moves {
    /// Destinations that hold files already (an earlier version's COMMIT linked into them): left
    /// where they are, for the caller to link file by file.
    std::vector<std::string> occupied;
    /// Gone from `from`, a directory in `to`: moved by an earlier, interrupted run.
    std::vector<std::string> moved_earlier;
};

/// Moves each directory <from>/<name> to <to>/<name> (one rename each, a bounded number in flight)
/// and makes the moves durable: a restore's COMMIT of its staging tablet directories into new
/// tablet directories, instead of a link per file.
io::task<job_result<directory_moves>> move_directories(std::string from, std::string to, std::vector<std::string> names,
                                                       std::stop_token stop = {});

/// A file expected at <root>/<tablet_id>/<name>, `size` bytes long.
struct placed_file {
    uint64_t tablet_id = 0;
    std::string name;
    uint64_t size = 0;
};

/// Checks that every file is in place with its size, in order; the first that is not is the
/// error, naming it. What a resumed COMMIT checks in the directories an interrupted run moved,
/// before it publishes them.
io::task<job_result<void>> check_placed(std::string root, std::vector<placed_file> files, std::stop_token stop = {});

/// `root` (mkdir -p) and the directories `names` in it, made at once (a bounded number in
/// flight; one that exists is fine), then their entries made durable by one fsync of `root`:
/// a restore's staging directories, one per tablet.
io::task<job_result<void>> make_directories_in(std::string root, std::vector<std::string> names,
                                               std::stop_token stop = {});

/// One of the job's own records under its directory (a backup's cut and manifest, a restore's
/// plan), written durably (temp file, fdatasync, rename) and read back.
io::task<job_result<void>> write_job_record(std::string path, std::string text, std::stop_token stop = {});
io::task<job_result<std::string>> read_job_record(std::string path, std::stop_token stop = {});

/// Removes the job's snapshot directory (unlinks through io_uring, so the loop keeps answering
/// meanwhile); a missing one is fine.
io::task<job_result<void>> release_snapshot(std::string data_dir, uint64_t job_id);

/// Removes the snapshot directories of jobs not in `live`; yields how many went.
io::task<size_t> sweep_snapshots(std::string data_dir, std::set<uint64_t> live);

}  // namespace tv::jobs
