// SPDX-License-Identifier: Apache-2.0
// local_sink: a download's temporary file, padded O_DIRECT writes and the publishing rename.
#include "pipeline/local_sink.hh"

#include "io/file.hh"

#include <fmt/format.h>

#include <cstring>

namespace tv::pipeline {

namespace {

uint64_t align_up(uint64_t n) {
    return (n + io::direct_io_alignment - 1) / io::direct_io_alignment * io::direct_io_alignment;
}

}  // namespace

io::task<std::optional<std::string>> local_sink::open(std::string path, std::stop_token stop) {
    _path = std::move(path);
    std::string dir = io::parent_directory(_path);
    if (auto made = co_await io::make_directories(dir, 0755, stop); !made) {
        co_return fmt::format("create directory {}: {}", dir, made.error().message());
    }
    auto created = co_await io::durable_file::create(_path, io::direct_mode::preferred, 0644, stop);
    if (!created) {
        co_return fmt::format("create a temporary file for {}: {}", _path, created.error().message());
    }
    _file = std::move(*created);
    co_return std::nullopt;
}

io::task<std::optional<std::string>> local_sink::write(std::span<std::byte> buffer, uint64_t length, uint64_t offset,
                                                       std::stop_token stop) {
    // O_DIRECT writes whole blocks: the tail is padded and the file cut to size in publish().
    uint64_t write_length = length;
    if (_file.file().direct() && length % io::direct_io_alignment != 0) {
        write_length = align_up(length);
        std::memset(buffer.data() + length, 0, write_length - length);
    }
    auto written = co_await _file.write(buffer.first(write_length), offset, std::move(stop));
    if (!written) {
        co_return fmt::format("write {}: {}", _path, written.error().message());
    }
    co_return std::nullopt;
}

io::task<std::optional<std::string>> local_sink::publish(uint64_t size) {
    if (_file.file().direct()) {
        if (auto sized = _file.set_size(size); !sized) {
            co_return fmt::format("truncate {}: {}", _file.temp_path(), sized.error().message());
        }
    }
    auto committed = co_await _file.commit(io::replace_mode::replace);
    if (!committed) {
        co_return fmt::format("publish {}: {}", _path, committed.error().message());
    }
    co_return std::nullopt;
}

io::task<void> local_sink::abandon() {
    co_await _file.abandon();
}

}  // namespace tv::pipeline
