// SPDX-License-Identifier: Apache-2.0
// The transfer service: sizing the pool from the memory budget, and live speed limits.
#include "server/transfers.hh"

#include "io/file.hh"
#include "io/log.hh"

#include <algorithm>

namespace tv::server {

uint64_t transfer_buffer_size(uint64_t part_size, uint64_t memory_limit) {
    constexpr uint64_t smallest_part = uint64_t{5} << 20;
    uint64_t fitting = std::min(part_size, memory_limit / 4);
    fitting = std::max(fitting, smallest_part);
    return fitting / io::direct_io_alignment * io::direct_io_alignment;
}

transfer_service::transfer_service(const config& cfg, io::loop_group& loops)
    : _upload_limit(pipeline::kbps_to_bytes_per_second(cfg.get<"max_upload_speed_kbps">())),
      _download_limit(pipeline::kbps_to_bytes_per_second(cfg.get<"max_download_speed_kbps">())),
      _upload_workers(static_cast<unsigned>(cfg.get<"upload_worker_count">())),
      _download_workers(static_cast<unsigned>(cfg.get<"download_worker_count">())),
      _multipart_threshold(static_cast<uint64_t>(cfg.get<"multipart_threshold">())) {
    auto memory = static_cast<uint64_t>(cfg.get<"transfer_memory_limit">());
    _part_size = transfer_buffer_size(static_cast<uint64_t>(cfg.get<"multipart_part_size">()), memory);
    size_t count = io::buffer_pool::count_for_budget(memory, _part_size);
    _pool = std::make_unique<io::buffer_pool>(_part_size + last_part_slack, count);
    _engine = std::make_unique<pipeline::transfer_engine>(loops, *_pool, _upload_limit, _download_limit);
    TV_LOG_INFO("transfers: {} buffers of {} MiB + {} KiB ({} MiB), upload limit {} KB/s, download limit {} KB/s",
                count, _part_size >> 20, last_part_slack >> 10, (count * _pool->buffer_size()) >> 20, cfg.get<"max_upload_speed_kbps">(),
                cfg.get<"max_download_speed_kbps">());
}

void transfer_service::apply(const config& cfg) {
    apply_limits(cfg.get<"max_upload_speed_kbps">(), cfg.get<"max_download_speed_kbps">());
}

void transfer_service::apply_limits(int64_t upload_kbps, int64_t download_kbps) {
    uint64_t up = pipeline::kbps_to_bytes_per_second(upload_kbps);
    uint64_t down = pipeline::kbps_to_bytes_per_second(download_kbps);
    if (up == _upload_limit.rate() && down == _download_limit.rate()) {
        return;
    }
    _upload_limit.set_rate(up);
    _download_limit.set_rate(down);
    // Operators change limits on running transfers; the log says when the new one took over.
    TV_LOG_INFO("transfers: upload limit now {} KB/s, download limit now {} KB/s (0 = unlimited)", upload_kbps,
                download_kbps);
}

pipeline::transfer_options transfer_service::options(pipeline::direction way) const {
    pipeline::transfer_options options;
    options.way = way;
    options.workers = way == pipeline::direction::upload ? _upload_workers : _download_workers;
    options.multipart_threshold = _multipart_threshold;
    options.part_size = _part_size;
    return options;
}

}  // namespace tv::server
