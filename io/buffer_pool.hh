// SPDX-License-Identifier: Apache-2.0
// buffer_pool: the process's transfer memory budget as a fixed set of aligned buffers in one
// pre-touched mapping backed by transparent huge pages where the system allows them. When it is empty, takers wait (backpressure); nothing ever allocates
// around it. Shared by every loop: a buffer released on one loop may wake a taker on another.
#pragma once

#include "io/loop.hh"

#include <sys/uio.h>

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

namespace tv::io {

class buffer_pool;

/// One pool buffer, returned to the pool when destroyed. Move-only.
class pooled_buffer {
public:
    pooled_buffer() noexcept = default;
    pooled_buffer(buffer_pool* pool, unsigned index) noexcept : _pool(pool), _index(index) {}
    pooled_buffer(pooled_buffer&& other) noexcept;
    pooled_buffer& operator=(pooled_buffer&& other) noexcept;
    pooled_buffer(const pooled_buffer&) = delete;
    pooled_buffer& operator=(const pooled_buffer&) = delete;
    ~pooled_buffer();

    explicit operator bool() const noexcept { return _pool != nullptr; }
    std::span<std::byte> span() const noexcept;
    unsigned index() const noexcept { return _index; }
    buffer_pool* pool() const noexcept { return _pool; }

    /// The registered-buffer index for READ_FIXED/WRITE_FIXED on the current loop, or -1 when
    /// this pool is not registered with that loop's ring.
    int fixed_index() const noexcept;

private:
    buffer_pool* _pool = nullptr;
    unsigned _index = 0;
};

class buffer_pool {
public:
    /// `count` buffers of `buffer_size` bytes (a multiple of 4096), aligned to 4096 for O_DIRECT.
    /// Throws std::system_error when the memory cannot be mapped.
    buffer_pool(size_t buffer_size, size_t count);
    ~buffer_pool();
    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;

    /// As many `buffer_size` buffers as fit in `memory_limit` (at least 2).
    static size_t count_for_budget(size_t memory_limit, size_t buffer_size) noexcept;

    size_t buffer_size() const noexcept { return _buffer_size; }
    size_t capacity() const noexcept { return _count; }
    size_t available() const;
    size_t waiting() const;

    std::optional<pooled_buffer> try_acquire();

    class acquire_op {
    public:
        acquire_op(buffer_pool& pool, std::stop_token stop) : _pool(pool), _stop(std::move(stop)) {}
        acquire_op(const acquire_op&) = delete;
        acquire_op& operator=(const acquire_op&) = delete;
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> h);
        /// Empty when the stop token fired before a buffer came.
        std::optional<pooled_buffer> await_resume();

    private:
        friend class buffer_pool;
        struct cancel_waiter {
            acquire_op* op;
            void operator()() const noexcept;
        };
        buffer_pool& _pool;
        std::stop_token _stop;
        std::optional<pooled_buffer> _buffer;
        std::coroutine_handle<> _waiter;
        loop* _loop = nullptr;
        std::optional<std::stop_callback<cancel_waiter>> _stop_callback;
    };

    /// Waits for a free buffer (FIFO among waiters). Yields nullopt if `stop` fires first.
    acquire_op acquire(std::stop_token stop = {}) { return acquire_op{*this, std::move(stop)}; }

    /// Registers every buffer with `l`'s ring (call on that loop's thread); fixed_index() then
    /// works there. Returns the kernel's error when registration is refused.
    std::error_code register_with(loop& l);

    /// The buffers as iovecs, e.g. for io_uring_register_buffers.
    const std::vector<iovec>& iovecs() const noexcept { return _iovecs; }

private:
    friend class pooled_buffer;
    void release(unsigned index) noexcept;

    size_t _buffer_size;
    size_t _count;
    std::byte* _base = nullptr;
    size_t _mapped = 0;
    std::vector<iovec> _iovecs;

    mutable std::mutex _mutex;
    std::vector<unsigned> _free;
    std::vector<acquire_op*> _waiters;  // FIFO; front is index 0
};

}  // namespace tv::io
