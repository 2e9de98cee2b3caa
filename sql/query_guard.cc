// SPDX-License-Identifier: Apache-2.0
// Stop reasons, deadlines and memory reservations of running statements.
#include "sql/query_guard.hh"

#include "io/loop.hh"

#include <algorithm>

namespace tv::sql {

namespace {

std::atomic<int64_t> g_pool_limit{0};
std::atomic<int64_t> g_pool_used{0};

}  // namespace

void query_memory_pool::set_limit(int64_t bytes) noexcept {
    g_pool_limit.store(bytes < 0 ? 0 : bytes, std::memory_order_relaxed);
}

int64_t query_memory_pool::limit() noexcept {
    return g_pool_limit.load(std::memory_order_relaxed);
}

int64_t query_memory_pool::used() noexcept {
    return g_pool_used.load(std::memory_order_relaxed);
}

query_guard::query_guard(int64_t timeout_s, int64_t mem_limit, std::stop_token connection)
    : _deadline(timeout_s > 0 ? clock::now() + std::chrono::seconds(timeout_s) : clock::time_point::max()),
      _timeout_s(timeout_s),
      _mem_limit(mem_limit),
      _follow_connection(std::move(connection), [this] { stop(stop_reason::killed); }) {}

query_guard::~query_guard() {
    g_pool_used.fetch_sub(_reserved.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void query_guard::stop(stop_reason why) noexcept {
    stop_reason none = stop_reason::none;
    if (_reason.compare_exchange_strong(none, why, std::memory_order_acq_rel)) {
        _stop.request_stop();
    }
}

sql_result<void> query_guard::check() noexcept {
    if (stopped() == stop_reason::none && clock::now() >= _deadline) {
        stop(stop_reason::timeout);
    }
    switch (stopped()) {
    case stop_reason::none: return {};
    case stop_reason::timeout:
        return make_error(errc::query_timeout,
                          "Query reached its timeout of {} seconds, please increase the 'query_timeout' session "
                          "variable and retry",
                          _timeout_s);
    case stop_reason::killed:
    case stop_reason::disconnected:
    case stop_reason::shutdown: break;
    }
    return make_error(errc::query_interrupted, "Query execution was interrupted");
}

sql_result<void> query_guard::reserve(int64_t bytes) noexcept {
    if (bytes <= 0) {
        return {};
    }
    const int64_t mine = _reserved.load(std::memory_order_relaxed) + bytes;
    // The peak counts what was asked for, granted or not: a statement refused at its limit has
    // allocated close to it, and the engine gives memory back after a large peak.
    if (mine > _peak.load(std::memory_order_relaxed)) {
        _peak.store(mine, std::memory_order_relaxed);
    }
    if (_mem_limit > 0 && mine > _mem_limit) {
        // StarRocks reports memory limits as error 1064 with these words.
        return make_error(errc::parse,
                          "Memory of query exceed limit. Used: {}, Limit: {}. Mem usage has exceed the limit of "
                          "single query, You can change the limit by set session variable query_mem_limit.",
                          mine, _mem_limit);
    }
    const int64_t pool_limit = query_memory_pool::limit();
    const int64_t pool = g_pool_used.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    if (pool_limit > 0 && pool > pool_limit) {
        g_pool_used.fetch_sub(bytes, std::memory_order_relaxed);
        return make_error(errc::parse,
                          "Memory of query_pool exceed limit. Used: {}, Limit: {}. Mem usage has exceed the limit "
                          "of query pool, You can change the limit by the configuration key query_pool_mem_limit.",
                          pool, pool_limit);
    }
    _reserved.store(mine, std::memory_order_relaxed);
    return {};
}

void query_guard::release(int64_t bytes) noexcept {
    const int64_t held = _reserved.load(std::memory_order_relaxed);
    bytes = std::min(bytes, held);
    if (bytes <= 0) {
        return;
    }
    _reserved.store(held - bytes, std::memory_order_relaxed);
    g_pool_used.fetch_sub(bytes, std::memory_order_relaxed);
}

io::task<sql_result<void>> between_batches(query_guard* guard) {
    if (guard == nullptr) {
        co_return sql_result<void>{};
    }
    co_await io::loop::current().yield();
    co_return guard->check();
}

sql_result<void> memory_charge::set(int64_t total) noexcept {
    if (_guard == nullptr || total == _held) {
        return {};  // nothing to charge, or nothing changes
    }
    if (total > _held) {
        auto reserved = _guard->reserve(total - _held);
        if (!reserved) {
            return reserved;
        }
    } else {
        _guard->release(_held - total);
    }
    _held = total;
    return {};
}

void memory_charge::set_free() noexcept {
    if (_guard != nullptr && _held > 0) {
        _guard->release(_held);
    }
    _held = 0;
}

}  // namespace tv::sql
