// SPDX-License-Identifier: Apache-2.0
// loop_group: `io_threads` loops, one ring and one thread each. Loop 0 is driven by the thread
// that calls run_main(); loops 1..n-1 run on their own threads. submit_to() runs a task on
// another loop and resumes the caller on its own loop with the result.
#pragma once

#include "io/loop.hh"
#include "io/task.hh"

#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace tv::io {

class loop_group {
public:
    /// Creates `count` loops (0 = one per online CPU) and starts threads for loops 1..count-1.
    /// Throws std::system_error when a ring cannot be created.
    explicit loop_group(unsigned count, loop_options options = {});
    ~loop_group();
    loop_group(const loop_group&) = delete;
    loop_group& operator=(const loop_group&) = delete;

    unsigned size() const noexcept { return static_cast<unsigned>(_loops.size()); }
    loop& at(unsigned index) noexcept { return *_loops[index]; }
    loop& main_loop() noexcept { return *_loops[0]; }

    /// Asks the worker loops to stop and joins their threads. Idempotent.
    void stop();

private:
    std::vector<std::unique_ptr<loop>> _loops;
    std::vector<std::jthread> _threads;
};

/// Runs `t` on `target` and resumes the caller back on its own loop with the value (or the
/// exception). The task's frame is created by the caller but only ever resumed on `target`.
template <class T>
task<T> submit_to(loop& target, task<T> t) {
    loop& origin = loop::current();
    if (&origin == &target) {
        co_return co_await std::move(t);
    }
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, int, T>> value;
    co_await target.schedule();
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(t);
            value.emplace(0);
        } else {
            value.emplace(co_await std::move(t));
        }
    } catch (...) {
        error = std::current_exception();
    }
    t = task<T>{};  // its frame is freed on the loop that ran it
    co_await origin.schedule();
    if (error) {
        std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<T>) {
        co_return std::move(*value);
    }
}

}  // namespace tv::io
