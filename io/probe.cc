// SPDX-License-Identifier: Apache-2.0
// The table of opcodes we depend on, and the wording of a refusal.
#include "io/probe.hh"

#include "io/error.hh"

#include <liburing.h>

#include <fmt/format.h>

#include <array>

namespace tv::io {

namespace {

constexpr std::array k_required = {
    required_opcode{IORING_OP_READ, "READ", "5.6", "reading segment files and sockets"},
    required_opcode{IORING_OP_WRITE, "WRITE", "5.6", "writing files"},
    required_opcode{IORING_OP_READ_FIXED, "READ_FIXED", "5.1", "reads into registered buffers"},
    required_opcode{IORING_OP_WRITE_FIXED, "WRITE_FIXED", "5.1", "writes from registered buffers"},
    required_opcode{IORING_OP_FSYNC, "FSYNC", "5.1", "making files and the journal durable"},
    required_opcode{IORING_OP_OPENAT, "OPENAT", "5.6", "opening files"},
    required_opcode{IORING_OP_CLOSE, "CLOSE", "5.6", "closing files"},
    required_opcode{IORING_OP_STATX, "STATX", "5.6", "file sizes and metadata"},
    required_opcode{IORING_OP_RENAMEAT, "RENAMEAT", "5.11", "publishing files atomically"},
    required_opcode{IORING_OP_UNLINKAT, "UNLINKAT", "5.11", "removing files"},
    required_opcode{IORING_OP_MKDIRAT, "MKDIRAT", "5.15", "creating directories"},
    required_opcode{IORING_OP_LINKAT, "LINKAT", "5.15", "hard links, which is how snapshots are taken"},
    required_opcode{IORING_OP_ACCEPT, "ACCEPT", "5.5", "accepting MySQL and HTTP clients"},
    required_opcode{IORING_OP_CONNECT, "CONNECT", "5.5", "connecting to object stores"},
    required_opcode{IORING_OP_RECV, "RECV", "5.6", "receiving from sockets"},
    required_opcode{IORING_OP_SEND, "SEND", "5.6", "sending to sockets"},
    required_opcode{IORING_OP_SHUTDOWN, "SHUTDOWN", "5.11", "ending HTTP connections after an error answer"},
    required_opcode{IORING_OP_TIMEOUT, "TIMEOUT", "5.4", "timers and throttling"},
    required_opcode{IORING_OP_POLL_ADD, "POLL_ADD", "5.1", "noticing a client that leaves while its query runs"},
    required_opcode{IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL", "5.5", "cancelling jobs"},
};

}  // namespace

std::span<const required_opcode> required_opcodes() noexcept {
    return k_required;
}

kernel_opcode_probe::kernel_opcode_probe() {
    io_uring ring{};
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) {
        _ring_error = errno_error(-rc);
        return;
    }
    _probe = io_uring_get_probe_ring(&ring);
    io_uring_queue_exit(&ring);
}

kernel_opcode_probe::~kernel_opcode_probe() {
    if (_probe != nullptr) {
        io_uring_free_probe(_probe);
    }
}

bool kernel_opcode_probe::supports(int opcode) {
    return _probe != nullptr && io_uring_opcode_supported(_probe, opcode);
}

std::optional<std::string> refusal_reason(opcode_probe& probe) {
    if (std::error_code ec = probe.ring_error()) {
        std::string hint;
        if (ec == std::errc::operation_not_permitted) {
            hint = " io_uring is disabled for this process: check /proc/sys/kernel/io_uring_disabled "
                   "(must be 0, or 1 with the server's group in /proc/sys/kernel/io_uring_group) and "
                   "any seccomp profile of the container.";
        } else if (ec == std::errc::function_not_supported) {
            hint = " The kernel was built without io_uring (CONFIG_IO_URING); tabletvault needs Linux 5.15 or later.";
        } else if (ec == std::errc::not_enough_memory) {
            hint = " The ring's memory could not be locked: raise RLIMIT_MEMLOCK (ulimit -l).";
        }
        return fmt::format("io_uring is unavailable: {}.{}", ec.message(), hint);
    }
    std::string missing;
    for (const auto& op : k_required) {
        if (!probe.supports(op.opcode)) {
            missing += fmt::format("{}{} (Linux {}+, for {})", missing.empty() ? "" : ", ", op.name,
                                   op.since, op.used_for);
        }
    }
    if (!missing.empty()) {
        return fmt::format("this kernel's io_uring lacks operations tabletvault needs: {}. "
                           "Run it on Linux 5.15 or later.",
                           missing);
    }
    return std::nullopt;
}

}  // namespace tv::io
