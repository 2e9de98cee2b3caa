// SPDX-License-Identifier: Apache-2.0
// Owning descriptors, O_DIRECT opening with fallback, and full reads and writes.
#include "io/file.hh"

#include "io/log.hh"

#include <fcntl.h>
#include <unistd.h>

namespace tv::io {

file::file(file&& other) noexcept : _fd(std::exchange(other._fd, -1)), _direct(other._direct) {}

file& file::operator=(file&& other) noexcept {
    if (this != &other) {
        if (_fd >= 0) {
            ::close(_fd);
        }
        _fd = std::exchange(other._fd, -1);
        _direct = other._direct;
    }
    return *this;
}

file::~file() {
    if (_fd >= 0) {
        ::close(_fd);
    }
}

task<result<void>> file::close() {
    int fd = std::exchange(_fd, -1);
    if (fd < 0) {
        co_return result<void>{};
    }
    co_return co_await io::close(fd);
}

task<result<file>> open_file(std::string path, int flags, mode_t mode, direct_mode direct, std::stop_token stop) {
    if (direct != direct_mode::off) {
        auto fd = co_await openat(AT_FDCWD, path, flags | O_DIRECT, mode, stop);
        if (fd) {
            co_return file{*fd, true};
        }
        if (fd.error() != std::errc::invalid_argument || direct == direct_mode::required) {
            co_return fd.error();
        }
        TV_LOG_DEBUG("O_DIRECT refused for {}, using the page cache", path);
    }
    auto fd = co_await openat(AT_FDCWD, std::move(path), flags, mode, std::move(stop));
    if (!fd) {
        co_return fd.error();
    }
    co_return file{*fd, false};
}

namespace {

task<result<size_t>> read_until_full(int fd, std::span<std::byte> buf, uint64_t offset, bool short_is_eof,
                                     std::stop_token stop) {
    size_t done = 0;
    while (done < buf.size()) {
        auto n = co_await read(fd, buf.subspan(done), offset + done, stop);
        if (!n) {
            co_return n.error();
        }
        done += *n;
        if (*n == 0 || (short_is_eof && done < buf.size())) {
            break;  // end of file
        }
    }
    co_return done;
}

}  // namespace

task<result<size_t>> read_fully(int fd, std::span<std::byte> buf, uint64_t offset, std::stop_token stop) {
    return read_until_full(fd, buf, offset, false, std::move(stop));
}

task<result<size_t>> read_fully(const file& f, std::span<std::byte> buf, uint64_t offset, std::stop_token stop) {
    return read_until_full(f.fd(), buf, offset, f.direct(), std::move(stop));
}

task<result<void>> write_fully(int fd, std::span<const std::byte> buf, uint64_t offset, std::stop_token stop) {
    size_t done = 0;
    while (done < buf.size()) {
        auto n = co_await write(fd, buf.subspan(done), offset + done, stop);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return errno_error(EIO);  // no progress and no error: never loop forever
        }
        done += *n;
    }
    co_return result<void>{};
}

task<result<std::string>> read_small_file(std::string path, uint64_t max_bytes, std::stop_token stop) {
    auto opened = co_await open_file(path, O_RDONLY | O_CLOEXEC, 0, direct_mode::off, stop);
    if (!opened) {
        co_return opened.error();
    }
    auto st = co_await statx(opened->fd(), "", AT_EMPTY_PATH, STATX_SIZE, stop);
    if (!st) {
        co_await opened->close();
        co_return st.error();
    }
    if (st->stx_size > max_bytes) {
        co_await opened->close();
        co_return std::make_error_code(std::errc::file_too_large);
    }
    std::string data(st->stx_size, '\0');
    auto n = co_await read_fully(opened->fd(), std::as_writable_bytes(std::span(data)), 0, stop);
    co_await opened->close();
    if (!n) {
        co_return n.error();
    }
    data.resize(*n);  // a file that shrank since statx reads as what is there
    co_return data;
}

bool direct_aligned(std::span<const std::byte> buf, uint64_t offset) noexcept {
    auto address = reinterpret_cast<uintptr_t>(buf.data());
    return address % direct_io_alignment == 0 && buf.size() % direct_io_alignment == 0 &&
           offset % direct_io_alignment == 0;
}

}  // namespace tv::io
