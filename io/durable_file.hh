// SPDX-License-Identifier: Apache-2.0
// The one way a file becomes durable: written under a temporary name in its target directory,
// fdatasync'd, renamed into place (without replacing, unless asked), then the directory fsync'd.
// Every layer that publishes a file (journal images, segments, local repositories, downloads,
// job state) goes through here, so there is one temporary-name pattern and one start-up sweep.
#pragma once

#include "io/error.hh"
#include "io/file.hh"
#include "io/task.hh"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

namespace tv::io {

/// Marks a temporary name: `<final name>.tvtmp-<host>.<pid>-<counter>`. A name holding it was
/// never published; a crash can leave one behind, and sweep_temp_files (a data dir at start-up)
/// or sweep_abandoned_temp_files (a directory other processes and hosts may write) removes it.
inline constexpr std::string_view temp_marker = ".tvtmp-";

/// A temporary name next to `final_path` that no other writer (in this process or another) uses.
std::string temp_path_for(std::string_view final_path);

/// True when the last component of `path` is a temporary name.
bool is_temp_name(std::string_view path) noexcept;

/// The directory part of `path` ("." for a bare name, "/" for a file in the root).
std::string parent_directory(std::string_view path);

/// fsync(2) of a directory, so that entries created, renamed or removed in it survive a crash.
task<result<void>> sync_directory(std::string dir, std::stop_token stop = {});

/// mkdir -p, with each directory it creates made durable by an fsync of its parent.
task<result<void>> make_directories(std::string dir, mode_t mode = 0755, std::stop_token stop = {});

enum class replace_mode {
    no_replace,  // publishing over an existing file is an error (std::errc::file_exists)
    replace,     // the new file atomically takes the place of the old one
};

/// rename(2) then an fsync of the target's directory. no_replace uses RENAME_NOREPLACE, or on a
/// file system without it a check first.
task<result<void>> rename_durably(std::string from, std::string to, replace_mode mode, std::stop_token stop = {});

/// A file being written under a temporary name. Either commit() publishes it under its final
/// name, or abandon() (or, as a safety net, the destructor) removes it; until then no reader
/// sees a byte of it.
class durable_file {
public:
    /// Creates the temporary file (O_EXCL) in the final path's directory, which must exist.
    /// With direct_mode::preferred, writes go around the page cache where the file system
    /// allows it (file().direct() tells); such writes need aligned buffers, and set_size()
    /// trims the padded tail before commit.
    static task<result<durable_file>> create(std::string final_path, direct_mode direct = direct_mode::off,
                                             mode_t mode = 0644, std::stop_token stop = {});

    durable_file() = default;
    durable_file(durable_file&& other) noexcept;
    durable_file& operator=(durable_file&& other) noexcept;
    durable_file(const durable_file&) = delete;
    durable_file& operator=(const durable_file&) = delete;
    ~durable_file();

    const io::file& file() const noexcept { return _file; }
    int fd() const noexcept { return _file.fd(); }
    const std::string& final_path() const noexcept { return _final_path; }
    const std::string& temp_path() const noexcept { return _temp_path; }
    bool is_open() const noexcept { return _file.is_open(); }
    /// True once commit() has renamed the file into place (even if the directory fsync after
    /// the rename then failed).
    bool renamed() const noexcept { return _renamed; }

    task<result<void>> write(std::span<const std::byte> data, uint64_t offset, std::stop_token stop = {});

    /// Sets the file's length (after O_DIRECT writes padded to a block).
    result<void> set_size(uint64_t size);

    /// fdatasync, close, rename to the final path, fsync the directory. On failure the
    /// temporary file is removed and the final path is as it was, except when only the
    /// directory fsync failed: then the file may or may not survive a crash, and the caller
    /// decides (segment publishing removes it again).
    task<result<void>> commit(replace_mode mode = replace_mode::no_replace, std::stop_token stop = {});

    /// Closes and removes the temporary file. Safe to call more than once.
    task<void> abandon();

private:
    durable_file(io::file f, std::string final_path, std::string temp_path) noexcept
        : _file(std::move(f)), _final_path(std::move(final_path)), _temp_path(std::move(temp_path)) {}

    io::file _file;
    std::string _final_path;
    std::string _temp_path;  // empty once committed or abandoned
    bool _renamed = false;
};

/// Writes all of `data` to `path` as one durable_file.
task<result<void>> write_file_durably(std::string path, std::span<const std::byte> data,
                                      replace_mode mode = replace_mode::no_replace, mode_t permissions = 0644,
                                      std::stop_token stop = {});

/// Removes temporary files (see temp_marker) under `dir`, recursively: what crashed writers
/// left. Run it at start-up, before anything writes there. Yields the number removed; a
/// missing `dir` is not an error.
result<size_t> sweep_temp_files(const std::string& dir);

/// Removes the temporary files under `dir` that no live writer owns: those this host's dead
/// processes left, and those of other hosts (a location shared over NFS) untouched for
/// `other_hosts_after`. Safe while writers run; yields the number removed.
result<size_t> sweep_abandoned_temp_files(const std::string& dir, std::chrono::seconds other_hosts_after);

}  // namespace tv::io
