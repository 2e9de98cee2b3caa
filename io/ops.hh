// SPDX-License-Identifier: Apache-2.0
// One awaitable per io_uring operation kind. Each lives in the awaiting coroutine's frame for the
// whole co_await, is the SQE's user_data, and turns the completion into result<T>:
//
//     auto n = co_await io::read(fd, buffer, offset, job_stop);
//     if (!n) { ... n.error() ... }
//
// Every operation takes an optional std::stop_token; a stop request cancels it (two-phase: an
// ASYNC_CANCEL is sent, and the coroutine resumes only when the operation's own completion
// arrives, usually with std::errc::operation_canceled).
#pragma once

#include "io/error.hh"
#include "io/loop.hh"

#include <fcntl.h>
#include <linux/stat.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>

namespace tv::io {

/// CRTP base: await_* plumbing shared by every operation. Derived provides prep() and
/// value_from(res) for a non-negative res.
template <class Derived, class T>
class uring_op : public op_base {
public:
    explicit uring_op(std::stop_token stop) noexcept : _stop(std::move(stop)) {}
    uring_op(const uring_op&) = delete;
    uring_op& operator=(const uring_op&) = delete;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) { return start(h, _stop); }
    result<T> await_resume() {
        if (_res < 0) {
            return completion_error(_res);
        }
        return static_cast<Derived*>(this)->value_from(_res);
    }

private:
    std::stop_token _stop;
};

/// An operation whose success carries no value.
template <class Derived>
class void_op : public uring_op<Derived, void> {
public:
    using uring_op<Derived, void>::uring_op;
    result<void> value_from(int) { return {}; }
};

/// An operation whose success is a byte count or a descriptor.
template <class Derived>
class count_op : public uring_op<Derived, size_t> {
public:
    using uring_op<Derived, size_t>::uring_op;
    result<size_t> value_from(int res) { return static_cast<size_t>(res); }
};

class openat_op final : public uring_op<openat_op, int> {
public:
    openat_op(int dir_fd, std::string path, int flags, mode_t mode, std::stop_token stop)
        : uring_op(std::move(stop)), _dir_fd(dir_fd), _path(std::move(path)), _flags(flags), _mode(mode) {}
    void prep(io_uring_sqe* sqe) override;
    result<int> value_from(int res) { return res; }

private:
    int _dir_fd;
    std::string _path;  // owned: the kernel reads it at submission, which may come later
    int _flags;
    mode_t _mode;
};

class close_op final : public void_op<close_op> {
public:
    explicit close_op(int fd) : void_op(std::stop_token{}), _fd(fd) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
};

/// shutdown(2) of a socket: SHUT_WR sends FIN after the queued bytes, so a peer still sending
/// a request we refused reads our answer before the connection ends.
class shutdown_op final : public void_op<shutdown_op> {
public:
    shutdown_op(int fd, int how) : void_op(std::stop_token{}), _fd(fd), _how(how) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    int _how;
};

class read_op final : public count_op<read_op> {
public:
    read_op(int fd, std::span<std::byte> buf, uint64_t offset, int fixed_index, std::stop_token stop)
        : count_op(std::move(stop)), _fd(fd), _buf(buf), _offset(offset), _fixed_index(fixed_index) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    std::span<std::byte> _buf;
    uint64_t _offset;
    int _fixed_index;
};

class write_op final : public count_op<write_op> {
public:
    write_op(int fd, std::span<const std::byte> buf, uint64_t offset, int fixed_index, std::stop_token stop)
        : count_op(std::move(stop)), _fd(fd), _buf(buf), _offset(offset), _fixed_index(fixed_index) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    std::span<const std::byte> _buf;
    uint64_t _offset;
    int _fixed_index;
};

class fsync_op final : public void_op<fsync_op> {
public:
    fsync_op(int fd, bool data_only, std::stop_token stop) : void_op(std::move(stop)), _fd(fd), _data_only(data_only) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    bool _data_only;
};

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts the writeback of a range's dirty pages
/// and does not wait for it. Durable it is not (no metadata, no device cache flush): a file
/// written in many small pieces and made durable later by a syncfs gets its writing spread over
/// the time its data arrives, instead of all of it left to that sync.
class writeback_op final : public void_op<writeback_op> {
public:
    writeback_op(int fd, uint64_t offset, uint32_t length, std::stop_token stop)
        : void_op(std::move(stop)), _fd(fd), _offset(offset), _length(length) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    uint64_t _offset;
    uint32_t _length;
};

class statx_op final : public uring_op<statx_op, struct statx> {
public:
    statx_op(int dir_fd, std::string path, int flags, unsigned mask, std::stop_token stop)
        : uring_op(std::move(stop)), _dir_fd(dir_fd), _path(std::move(path)), _flags(flags), _mask(mask) {}
    void prep(io_uring_sqe* sqe) override;
    result<struct statx> value_from(int) { return _statx; }

private:
    int _dir_fd;
    std::string _path;
    int _flags;
    unsigned _mask;
    struct statx _statx{};
};

/// renameat, unlinkat, mkdirat and linkat: path operations without a value.
class path_op final : public void_op<path_op> {
public:
    enum class kind : uint8_t { rename, unlink, mkdir, link };
    path_op(kind k, int dir_fd, std::string path, int dir_fd2, std::string path2, int flags_or_mode,
            std::stop_token stop)
        : void_op(std::move(stop)), _kind(k), _dir_fd(dir_fd), _path(std::move(path)), _dir_fd2(dir_fd2),
          _path2(std::move(path2)), _flags_or_mode(flags_or_mode) {}
    void prep(io_uring_sqe* sqe) override;

private:
    kind _kind;
    int _dir_fd;
    std::string _path;
    int _dir_fd2;
    std::string _path2;
    int _flags_or_mode;
};

class accept_op final : public uring_op<accept_op, int> {
public:
    accept_op(int fd, std::stop_token stop) : uring_op(std::move(stop)), _fd(fd) {}
    void prep(io_uring_sqe* sqe) override;
    result<int> value_from(int res) { return res; }

private:
    int _fd;
};

class connect_op final : public void_op<connect_op> {
public:
    connect_op(int fd, const sockaddr_storage& addr, socklen_t len, std::stop_token stop)
        : void_op(std::move(stop)), _fd(fd), _addr(addr), _len(len) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    sockaddr_storage _addr;
    socklen_t _len;
};

class recv_op final : public count_op<recv_op> {
public:
    recv_op(int fd, std::span<std::byte> buf, int flags, std::stop_token stop)
        : count_op(std::move(stop)), _fd(fd), _buf(buf), _flags(flags) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    std::span<std::byte> _buf;
    int _flags;
};

class send_op final : public count_op<send_op> {
public:
    send_op(int fd, std::span<const std::byte> buf, int flags, std::stop_token stop)
        : count_op(std::move(stop)), _fd(fd), _buf(buf), _flags(flags) {}
    void prep(io_uring_sqe* sqe) override;

private:
    int _fd;
    std::span<const std::byte> _buf;
    int _flags;
};

/// POLL_ADD, one shot: waits until `fd` reports one of `events` (poll(2) bits such as POLLRDHUP);
/// yields the events that fired.
class poll_op final : public uring_op<poll_op, unsigned> {
public:
    poll_op(int fd, unsigned events, std::stop_token stop) : uring_op(std::move(stop)), _fd(fd), _events(events) {}
    void prep(io_uring_sqe* sqe) override;
    result<unsigned> value_from(int res) { return static_cast<unsigned>(res); }

private:
    int _fd;
    unsigned _events;
};

/// A relative timeout. Expiry (-ETIME from the kernel) is success.
class sleep_op final : public void_op<sleep_op> {
public:
    sleep_op(std::chrono::nanoseconds duration, std::stop_token stop);
    void prep(io_uring_sqe* sqe) override;
    result<void> await_resume() {
        if (_res == -ETIME) {
            return {};
        }
        return void_op::await_resume();
    }

private:
    __kernel_timespec _ts{};
};

/// Cancels every operation on `fd` (IORING_ASYNC_CANCEL_FD | ALL); yields how many it found.
class cancel_fd_op final : public count_op<cancel_fd_op> {
public:
    explicit cancel_fd_op(int fd) : count_op(std::stop_token{}), _fd(fd) {}
    void prep(io_uring_sqe* sqe) override;
    result<size_t> await_resume() {
        if (_res == -ENOENT) {
            return size_t{0};
        }
        return count_op::await_resume();
    }

private:
    int _fd;
};

// ---- Factories: the names callers use. -------------------------------------------------------

inline openat_op openat(int dir_fd, std::string path, int flags, mode_t mode = 0, std::stop_token stop = {}) {
    return {dir_fd, std::move(path), flags | O_CLOEXEC, mode, std::move(stop)};
}
inline close_op close(int fd) { return close_op{fd}; }
inline read_op read(int fd, std::span<std::byte> buf, uint64_t offset, std::stop_token stop = {}) {
    return {fd, buf, offset, -1, std::move(stop)};
}
inline write_op write(int fd, std::span<const std::byte> buf, uint64_t offset, std::stop_token stop = {}) {
    return {fd, buf, offset, -1, std::move(stop)};
}
/// READ_FIXED / WRITE_FIXED: `buf` must lie inside registered buffer `index` of this ring.
inline read_op read_fixed(int fd, std::span<std::byte> buf, uint64_t offset, int index, std::stop_token stop = {}) {
    return {fd, buf, offset, index, std::move(stop)};
}
inline write_op write_fixed(int fd, std::span<const std::byte> buf, uint64_t offset, int index,
                            std::stop_token stop = {}) {
    return {fd, buf, offset, index, std::move(stop)};
}
inline fsync_op fsync(int fd, std::stop_token stop = {}) { return {fd, false, std::move(stop)}; }
inline fsync_op fdatasync(int fd, std::stop_token stop = {}) { return {fd, true, std::move(stop)}; }
/// Starts writing `length` bytes at `offset` back to the device (see writeback_op).
inline writeback_op start_writeback(int fd, uint64_t offset, uint32_t length, std::stop_token stop = {}) {
    return {fd, offset, length, std::move(stop)};
}
inline statx_op statx(int dir_fd, std::string path, int flags = 0, unsigned mask = STATX_BASIC_STATS,
                      std::stop_token stop = {}) {
    return {dir_fd, std::move(path), flags, mask, std::move(stop)};
}
inline path_op renameat(int old_dir, std::string old_path, int new_dir, std::string new_path, unsigned flags = 0) {
    return {path_op::kind::rename, old_dir, std::move(old_path), new_dir, std::move(new_path),
            static_cast<int>(flags), {}};
}
inline path_op unlinkat(int dir_fd, std::string path, int flags = 0) {
    return {path_op::kind::unlink, dir_fd, std::move(path), -1, {}, flags, {}};
}
inline path_op mkdirat(int dir_fd, std::string path, mode_t mode = 0755) {
    return {path_op::kind::mkdir, dir_fd, std::move(path), -1, {}, static_cast<int>(mode), {}};
}
/// A hard link: how snapshots pin segment files without copying them.
inline path_op linkat(int old_dir, std::string old_path, int new_dir, std::string new_path, int flags = 0) {
    return {path_op::kind::link, old_dir, std::move(old_path), new_dir, std::move(new_path), flags, {}};
}
inline accept_op accept(int listen_fd, std::stop_token stop = {}) { return {listen_fd, std::move(stop)}; }
inline connect_op connect(int fd, const sockaddr_storage& addr, socklen_t len, std::stop_token stop = {}) {
    return {fd, addr, len, std::move(stop)};
}
inline recv_op recv(int fd, std::span<std::byte> buf, std::stop_token stop = {}) {
    return {fd, buf, 0, std::move(stop)};
}
/// MSG_NOSIGNAL: a peer that went away is an EPIPE result, not a process-killing SIGPIPE.
inline send_op send(int fd, std::span<const std::byte> buf, std::stop_token stop = {}) {
    return {fd, buf, MSG_NOSIGNAL, std::move(stop)};
}
inline shutdown_op shutdown(int fd, int how) { return {fd, how}; }
inline sleep_op sleep(std::chrono::nanoseconds duration, std::stop_token stop = {}) {
    return {duration, std::move(stop)};
}
inline cancel_fd_op cancel_fd(int fd) { return cancel_fd_op{fd}; }
inline poll_op poll(int fd, unsigned events, std::stop_token stop = {}) { return {fd, events, std::move(stop)}; }

}  // namespace tv::io
