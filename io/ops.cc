// SPDX-License-Identifier: Apache-2.0
// The prep() of every operation: the one place where an operation becomes an SQE.
#include "io/ops.hh"

namespace tv::io {

void openat_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_openat(sqe, _dir_fd, _path.c_str(), _flags, _mode);
}

void close_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_close(sqe, _fd);
}

void shutdown_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_shutdown(sqe, _fd, _how);
}

void read_op::prep(io_uring_sqe* sqe) {
    if (_fixed_index >= 0) {
        io_uring_prep_read_fixed(sqe, _fd, _buf.data(), static_cast<unsigned>(_buf.size()), _offset, _fixed_index);
    } else {
        io_uring_prep_read(sqe, _fd, _buf.data(), static_cast<unsigned>(_buf.size()), _offset);
    }
}

void write_op::prep(io_uring_sqe* sqe) {
    if (_fixed_index >= 0) {
        io_uring_prep_write_fixed(sqe, _fd, _buf.data(), static_cast<unsigned>(_buf.size()), _offset,
                                  _fixed_index);
    } else {
        io_uring_prep_write(sqe, _fd, _buf.data(), static_cast<unsigned>(_buf.size()), _offset);
    }
}

void fsync_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_fsync(sqe, _fd, _data_only ? IORING_FSYNC_DATASYNC : 0);
}

void writeback_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_sync_file_range(sqe, _fd, _length, _offset, SYNC_FILE_RANGE_WRITE);
}

void statx_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_statx(sqe, _dir_fd, _path.c_str(), _flags, _mask, &_statx);
}

void path_op::prep(io_uring_sqe* sqe) {
    switch (_kind) {
    case kind::rename:
        io_uring_prep_renameat(sqe, _dir_fd, _path.c_str(), _dir_fd2, _path2.c_str(),
                               static_cast<unsigned>(_flags_or_mode));
        break;
    case kind::unlink:
        io_uring_prep_unlinkat(sqe, _dir_fd, _path.c_str(), _flags_or_mode);
        break;
    case kind::mkdir:
        io_uring_prep_mkdirat(sqe, _dir_fd, _path.c_str(), static_cast<mode_t>(_flags_or_mode));
        break;
    case kind::link:
        io_uring_prep_linkat(sqe, _dir_fd, _path.c_str(), _dir_fd2, _path2.c_str(), _flags_or_mode);
        break;
    }
}

void accept_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_accept(sqe, _fd, nullptr, nullptr, SOCK_CLOEXEC);
}

void connect_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_connect(sqe, _fd, reinterpret_cast<const sockaddr*>(&_addr), _len);
}

void recv_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_recv(sqe, _fd, _buf.data(), _buf.size(), _flags);
}

void send_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_send(sqe, _fd, _buf.data(), _buf.size(), _flags);
}

sleep_op::sleep_op(std::chrono::nanoseconds duration, std::stop_token stop) : void_op(std::move(stop)) {
    auto ns = duration.count() < 0 ? 0 : duration.count();
    _ts.tv_sec = ns / 1'000'000'000;
    _ts.tv_nsec = ns % 1'000'000'000;
}

void poll_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_poll_add(sqe, _fd, _events);
}

void sleep_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_timeout(sqe, &_ts, 0, 0);
}

void cancel_fd_op::prep(io_uring_sqe* sqe) {
    io_uring_prep_cancel_fd(sqe, _fd, IORING_ASYNC_CANCEL_ALL);
}

}  // namespace tv::io
