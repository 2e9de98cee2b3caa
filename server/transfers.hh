// SPDX-License-Identifier: Apache-2.0
// transfers: the server's one transfer engine, built from the configuration: the buffer pool
// (transfer_memory_limit in multipart_part_size buffers), one throttle per direction (the
// max_*_speed_kbps keys, changed live), and the per-direction transfer options jobs start from.
#pragma once

#include "io/buffer_pool.hh"
#include "io/loop_group.hh"
#include "pipeline/throttle.hh"
#include "pipeline/transfer.hh"
#include "server/config.hh"

#include <cstdint>
#include <memory>

namespace tv::server {

/// multipart_part_size, shrunk so that at least four buffers fit in transfer_memory_limit (and
/// never below S3's 5 MiB minimum part), a multiple of the O_DIRECT alignment.
uint64_t transfer_buffer_size(uint64_t part_size, uint64_t memory_limit);

/// What each pool buffer holds beyond a part: room for a file's last part to take a small
/// remainder (a segment's footer past a multiple of the part size) instead of sending it as a
/// part of its own. Outside the budget: 1 MiB on the default 16 buffers.
inline constexpr uint64_t last_part_slack = uint64_t{64} << 10;

class transfer_service {
public:
    transfer_service(const config& cfg, io::loop_group& loops);

    /// Re-reads the run-time keys (the speed limits): called after every accepted change, it
    /// reaches transfers that are already running at their next slice.
    void apply(const config& cfg);
    /// Sets both limits directly (KB/s; 0 = unlimited): bench-path's mid-run changes.
    void apply_limits(int64_t upload_kbps, int64_t download_kbps);

    pipeline::transfer_engine& engine() noexcept { return *_engine; }
    pipeline::transfer_options options(pipeline::direction way) const;
    const io::buffer_pool& pool() const noexcept { return *_pool; }
    pipeline::throttle& upload_limit() noexcept { return _upload_limit; }
    pipeline::throttle& download_limit() noexcept { return _download_limit; }

private:
    std::unique_ptr<io::buffer_pool> _pool;
    pipeline::throttle _upload_limit;
    pipeline::throttle _download_limit;
    std::unique_ptr<pipeline::transfer_engine> _engine;
    unsigned _upload_workers;
    unsigned _download_workers;
    uint64_t _multipart_threshold;
    uint64_t _part_size;
};

}  // namespace tv::server
