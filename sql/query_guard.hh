// SPDX-License-Identifier: Apache-2.0
// query_guard: what may stop one running statement (KILL, query_timeout, the client going away,
// server shutdown) and the memory it may hold (query_mem_limit, and a process-wide pool shared
// by every statement). Executors ask it between batches; it is safe to stop from any thread.
#pragma once

#include "io/task.hh"
#include "sql/errors.hh"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>

namespace tv::sql {

enum class stop_reason : uint8_t { none, killed, timeout, disconnected, shutdown };

/// Memory every running statement reserves from; 0 bytes means no limit. Its usage is the sum of
/// what live guards hold.
struct query_memory_pool {
    static void set_limit(int64_t bytes) noexcept;
    static int64_t limit() noexcept;
    static int64_t used() noexcept;
};

class query_guard {
public:
    using clock = std::chrono::steady_clock;

    /// `timeout_s` <= 0 means none; `mem_limit` <= 0 leaves only the pool's limit. `connection`
    /// stops the statement when the connection is killed or the server stops.
    query_guard(int64_t timeout_s, int64_t mem_limit, std::stop_token connection);
    ~query_guard();
    query_guard(const query_guard&) = delete;
    query_guard& operator=(const query_guard&) = delete;

    /// First reason wins; later calls change nothing. Thread-safe.
    void stop(stop_reason why) noexcept;
    stop_reason stopped() const noexcept { return _reason.load(std::memory_order_acquire); }
    /// Stop requests for operations the statement waits on.
    std::stop_token token() const noexcept { return _stop.get_token(); }

    /// The error to end the statement with, if it must end: 1317 for KILL, a client gone or a
    /// shutdown, 5024 with StarRocks' words when query_timeout passed.
    sql_result<void> check() noexcept;

    /// Takes `bytes` more from the statement's limit and the pool, or fails (1064, StarRocks'
    /// message) without taking anything.
    sql_result<void> reserve(int64_t bytes) noexcept;
    /// Gives back bytes reserved before (never more than held).
    void release(int64_t bytes) noexcept;
    int64_t reserved() const noexcept { return _reserved.load(std::memory_order_relaxed); }
    /// The most this statement held, or asked to hold, at once.
    int64_t peak() const noexcept { return _peak.load(std::memory_order_relaxed); }

private:
    std::stop_source _stop;
    std::atomic<stop_reason> _reason{stop_reason::none};
    clock::time_point _deadline;
    int64_t _timeout_s;
    int64_t _mem_limit;
    std::atomic<int64_t> _reserved{0};
    std::atomic<int64_t> _peak{0};
    // Last: it may call stop() at once, which needs every member above.
    std::stop_callback<std::function<void()>> _follow_connection;
};

/// Between two batches of a statement: lets the loop run other work, then says whether the
/// statement must end (`guard` may be null: internal statements run unguarded).
io::task<sql_result<void>> between_batches(query_guard* guard);

/// Memory charged to a guard that is given back when the holder goes away (a hash set's keys,
/// a result's rows). Adjusts to a new total with set(); a null guard charges nothing.
class memory_charge {
public:
    explicit memory_charge(query_guard* guard = nullptr) noexcept : _guard(guard) {}
    ~memory_charge() { set_free(); }
    memory_charge(const memory_charge&) = delete;
    memory_charge& operator=(const memory_charge&) = delete;

    /// Grows (or shrinks) the charge to `total` bytes; fails without change when it cannot grow.
    sql_result<void> set(int64_t total) noexcept;
    sql_result<void> add(int64_t bytes) noexcept { return set(_held + bytes); }
    int64_t held() const noexcept { return _held; }

private:
    void set_free() noexcept;

    query_guard* _guard;
    int64_t _held = 0;
};

}  // namespace tv::sql
