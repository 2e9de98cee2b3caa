// SPDX-License-Identifier: Apache-2.0
// local_sink: where a download's bytes land. A temporary file beside the local path, written
// at part offsets in any order (O_DIRECT for whole blocks where the file system allows), then
// cut to size, fdatasynced and renamed into place (io::durable_file). Nothing appears under the
// path before publish(); a failed or cancelled download leaves nothing behind.
#pragma once

#include "io/durable_file.hh"
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

private:
    std::string _path;
    io::durable_file _file;
};

}  // namespace tv::pipeline
