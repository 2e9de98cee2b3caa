// SPDX-License-Identifier: Apache-2.0
// stream: the byte stream a client connection reads and writes through, so the HTTP client
// codec works the same over a plain socket and over TLS (io/tls.hh).
#pragma once

#include "io/error.hh"
#include "io/task.hh"

#include <cstddef>
#include <span>
#include <stop_token>

namespace tv::io {

/// A connected, ordered byte stream. One operation at a time: a read and a write are never in
/// flight together. A stopped or failed operation may leave the stream unusable (a TLS record
/// half sent); callers close it then.
class stream {
public:
    virtual ~stream() = default;

    /// Reads at least one byte into `buffer` (at most its size); 0 means the peer ended the
    /// stream cleanly.
    virtual task<result<size_t>> read_some(std::span<std::byte> buffer, std::stop_token stop = {}) = 0;
    /// Writes all of `data` (which must stay valid until the task finishes).
    virtual task<result<void>> write_all(std::span<const std::byte> data, std::stop_token stop = {}) = 0;
};

/// A plain TCP socket. The descriptor stays the caller's: it must outlive the stream.
class socket_stream final : public stream {
public:
    explicit socket_stream(int fd) noexcept : _fd(fd) {}

    task<result<size_t>> read_some(std::span<std::byte> buffer, std::stop_token stop = {}) override;
    task<result<void>> write_all(std::span<const std::byte> data, std::stop_token stop = {}) override;

    int fd() const noexcept { return _fd; }

private:
    int _fd;
};

}  // namespace tv::io
