// SPDX-License-Identifier: Apache-2.0
// Files on top of the raw operations: an owning descriptor, opening with O_DIRECT and a clean
// fallback where the filesystem refuses it, and whole-span reads and writes across short ones.
#pragma once

#include "io/error.hh"
#include "io/ops.hh"
#include "io/task.hh"

#include <cstddef>
#include <span>
#include <stop_token>
#include <string>

namespace tv::io {

/// O_DIRECT needs buffer address, length and file offset aligned to the device's logical block;
/// 4096 satisfies every block device we meet, and the buffer pool aligns to it.
inline constexpr size_t direct_io_alignment = 4096;

enum class direct_mode {
    off,        // page cache
    preferred,  // O_DIRECT where the filesystem supports it, page cache elsewhere
    required,   // O_DIRECT or an error
};

/// An owned descriptor. Close it with `co_await f.close()`; the destructor closes synchronously
/// only as a safety net for error paths.
class file {
public:
    file() noexcept = default;
    file(int fd, bool direct) noexcept : _fd(fd), _direct(direct) {}
    file(file&& other) noexcept;
    file& operator=(file&& other) noexcept;
    file(const file&) = delete;
    file& operator=(const file&) = delete;
    ~file();

    int fd() const noexcept { return _fd; }
    bool is_open() const noexcept { return _fd >= 0; }
    /// True when opened with O_DIRECT: reads must then use aligned buffers and offsets.
    bool direct() const noexcept { return _direct; }

    task<result<void>> close();

private:
    int _fd = -1;
    bool _direct = false;
};

/// Opens `path` (relative paths from the working directory). With direct_mode::preferred, a
/// filesystem that rejects O_DIRECT (EINVAL: tmpfs before 6.6, ramfs, some FUSE) gets a
/// buffered descriptor instead, and file::direct() says which one it is.
task<result<file>> open_file(std::string path, int flags, mode_t mode = 0644, direct_mode direct = direct_mode::off,
                             std::stop_token stop = {});

/// Reads until `buf` is full or end of file; yields the bytes read.
task<result<size_t>> read_fully(int fd, std::span<std::byte> buf, uint64_t offset, std::stop_token stop = {});

/// The same for an opened file. On an O_DIRECT file a short read is end of file (the kernel
/// returns the unaligned tail in one piece, and a further read at that offset would be EINVAL).
task<result<size_t>> read_fully(const file& f, std::span<std::byte> buf, uint64_t offset, std::stop_token stop = {});

/// Writes all of `buf` at `offset`, continuing after short writes.
task<result<void>> write_fully(int fd, std::span<const std::byte> buf, uint64_t offset, std::stop_token stop = {});

/// The whole of a small file (a job's records, not segment data), refusing one larger than
/// `max_bytes` with std::errc::file_too_large.
task<result<std::string>> read_small_file(std::string path, uint64_t max_bytes, std::stop_token stop = {});

/// True when a transfer of `buf` at `offset` meets O_DIRECT's alignment rules.
bool direct_aligned(std::span<const std::byte> buf, uint64_t offset) noexcept;

}  // namespace tv::io
