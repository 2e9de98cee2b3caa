// SPDX-License-Identifier: Apache-2.0
// Where tablet data lives and how loads and scans size and spread their work.
#pragma once

#include <cstdint>
#include <string>

namespace tv::io {
class loop_group;
}

namespace tv::storage {

struct data_options {
    /// Segment files live in <data_dir>/storage/data/<tablet_id>/<rowset_id>_<n>.dat.
    std::string data_dir;
    /// No segment file is larger than this (segment_max_bytes).
    uint64_t segment_max_bytes = uint64_t{1} << 30;
    /// A tablet's buffered rows are written as a segment once they pass this (write_buffer_size),
    /// so a load's memory stays bounded whatever its size.
    uint64_t write_buffer_bytes = uint64_t{100} << 20;
    /// Segment writes and tablet reads are spread over these loops; null: the calling loop only.
    io::loop_group* loops = nullptr;
};

}  // namespace tv::storage
