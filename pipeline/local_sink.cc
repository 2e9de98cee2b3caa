// SPDX-License-Identifier: Apache-2.0
// local_sink: a download's temporary (or partial) file, padded O_DIRECT writes and the publishing
// rename.
#include "pipeline/local_sink.hh"

#include "io/file.hh"
#include "io/ops.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include <algorithm>
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

io::task<std::optional<std::string>> local_sink::open_resumable(std::string path, bool keep_existing,
                                                                std::stop_token stop) {
    _path = std::move(path);
    std::string dir = io::parent_directory(_path);
    if (auto made = co_await io::make_directories(dir, 0755, stop); !made) {
        co_return fmt::format("create directory {}: {}", dir, made.error().message());
    }
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (keep_existing ? 0 : O_TRUNC);
    // O_DIRECT as for open(): the parts are fdatasynced one by one anyway, and copying them
    // through the page cache cost more CPU than the rest of a local restore.
    auto opened = co_await io::open_file(partial_path(_path), flags, 0644, io::direct_mode::preferred, stop);
    if (!opened) {
        co_return fmt::format("open {}: {}", partial_path(_path), opened.error().message());
    }
    _partial = std::move(*opened);
    co_return std::nullopt;
}

io::task<std::optional<std::string>> local_sink::sync(std::stop_token stop) {
    auto synced = co_await io::fdatasync(_partial.fd(), std::move(stop));
    if (!synced) {
        co_return fmt::format("fdatasync {}: {}", partial_path(_path), synced.error().message());
    }
    co_return std::nullopt;
}

io::task<io::result<size_t>> local_sink::read_back(std::span<std::byte> buffer, uint64_t length, uint64_t offset,
                                                   std::stop_token stop) {
    // An O_DIRECT read takes whole blocks: a padded tail (or the end of a file an older,
    // buffered run wrote) comes in with the part and is not counted.
    uint64_t read_length = _partial.direct() ? align_up(length) : length;
    auto got = co_await io::read_fully(_partial, buffer.first(read_length), offset, std::move(stop));
    if (!got) {
        co_return got.error();
    }
    co_return std::min<size_t>(*got, length);
}

io::task<void> local_sink::keep() {
    if (_partial.is_open()) {
        (void)co_await _partial.close();
    }
}

io::task<std::optional<std::string>> local_sink::write(std::span<std::byte> buffer, uint64_t length, uint64_t offset,
                                                       std::stop_token stop) {
    // O_DIRECT writes whole blocks: the tail is padded and the file cut to size in publish().
    bool direct = _partial.is_open() ? _partial.direct() : _file.file().direct();
    uint64_t write_length = length;
    if (direct && length % io::direct_io_alignment != 0) {
        write_length = align_up(length);
        std::memset(buffer.data() + length, 0, write_length - length);
    }
    if (_partial.is_open()) {
        auto written = co_await io::write_fully(_partial.fd(), buffer.first(write_length), offset, std::move(stop));
        if (!written) {
            co_return fmt::format("write {}: {}", partial_path(_path), written.error().message());
        }
        co_return std::nullopt;
    }
    auto written = co_await _file.write(buffer.first(write_length), offset, std::move(stop));
    if (!written) {
        co_return fmt::format("write {}: {}", _path, written.error().message());
    }
    co_return std::nullopt;
}

io::task<std::optional<std::string>> local_sink::publish(uint64_t size) {
    if (_partial.is_open()) {
        std::string partial = partial_path(_path);
        if (::ftruncate(_partial.fd(), static_cast<off_t>(size)) != 0) {
            co_return fmt::format("truncate {}: {}", partial, std::strerror(errno));
        }
        if (auto synced = co_await sync({}); synced) {
            co_return synced;
        }
        if (auto closed = co_await _partial.close(); !closed) {
            co_return fmt::format("close {}: {}", partial, closed.error().message());
        }
        auto renamed = co_await io::rename_durably(partial, _path, io::replace_mode::replace);
        if (!renamed) {
            co_return fmt::format("publish {}: {}", _path, renamed.error().message());
        }
        co_return std::nullopt;
    }
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
    if (_partial.is_open()) {
        (void)co_await _partial.close();
        (void)co_await io::unlinkat(AT_FDCWD, partial_path(_path));
    }
    co_await _file.abandon();
}

}  // namespace tv::pipeline
