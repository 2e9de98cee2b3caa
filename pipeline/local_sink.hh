// SPDX-License-Identifier: Apache-2.0
// local_sink: where a download's bytes land. A temporary file beside the local path, written
// at part offsets in any order (O_DIRECT for whole blocks where the file system allows), then
// cut to size, fdatasynced and renamed into place (io::durable_file). Nothing appears under the
// path before publish(); a failed or cancelled download leaves nothing behind.
//
// A resumable sink writes `<path>.partial` instead (O_DIRECT too, its tail padded until
// publish), a name a restarted process finds again: each part is made durable before the
// caller records it, a stopped run keeps the file, and a later run reads back the parts it
// recorded instead of fetching them.
#pragma once

#include "io/durable_file.hh"
#include "io/file.hh"
#include "io/task.hh"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>

namespace tv::pipeline {

/// Each step yields nothing on success, else what failed, worded for users
/// ("write /restore/t1/0.dat: No space left on device").
class local_sink {
public:
    /// Creates the path's directory (and its parents) and the temporary file.
    io::task<std::optional<std::string>> open(std::string path, std::stop_token stop);

    /// Writes the first `length` bytes of `buffer` at `offset`. `buffer` is a whole pool buffer:
    /// an O_DIRECT write of a short last part pads it with zeros to a block inside `buffer`,
    /// and publish() cuts the file back to its size.
    io::task<std::optional<std::string>> write(std::span<std::byte> buffer, uint64_t length, uint64_t offset,
                                               std::stop_token stop);

    /// Cuts the file to `size` (after padded writes), then renames it over the path, replacing
    /// what is there: a restore re-run over its own earlier, interrupted attempt. After a
    /// failure the caller abandons the sink.
    io::task<std::optional<std::string>> publish(uint64_t size);

    /// Removes the temporary file. Safe to call more than once and after publish().
    io::task<void> abandon();

    /// Opens `<path>.partial` for a resumable download, keeping what an earlier run wrote there
    /// when `keep_existing` (else starting it empty).
    io::task<std::optional<std::string>> open_resumable(std::string path, bool keep_existing, std::stop_token stop);
    /// Makes the parts written so far durable (resumable sinks).
    io::task<std::optional<std::string>> sync(std::stop_token stop);
    /// Reads back `length` bytes an earlier run wrote at `offset` (resumable sinks) into the
    /// start of `buffer`, a whole pool buffer (an O_DIRECT read fills whole blocks of it); how
    /// many of the `length` there were.
    io::task<io::result<size_t>> read_back(std::span<std::byte> buffer, uint64_t length, uint64_t offset,
                                           std::stop_token stop);
    /// Closes a resumable sink keeping `<path>.partial`, for the run that continues it.
    io::task<void> keep();

    static std::string partial_path(const std::string& path) { return path + ".partial"; }

private:
    std::string _path;
    io::durable_file _file;
    io::file _partial;  ///< a resumable sink's file (open while it is written)
};

}  // namespace tv::pipeline
