// SPDX-License-Identifier: Apache-2.0
// sync_wait: drives a loop on the calling thread until one task finishes; for main() and tests.
#pragma once

#include "io/loop.hh"
#include "io/task.hh"

#include <exception>
#include <optional>

namespace tv::io {

namespace detail {

/// The frame that runs a task to completion and flags the driver.
struct sync_wait_frame {
    struct promise_type {
        bool done = false;
        sync_wait_frame get_return_object() noexcept {
            return sync_wait_frame{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() noexcept {
            done = true;
            loop::current().skip_next_wait();
            return {};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }  // the body catches everything
    };
    std::coroutine_handle<promise_type> handle;
};

template <class T>
sync_wait_frame run_into(task<T> t, std::optional<T>& value, std::exception_ptr& error) {
    try {
        value.emplace(co_await std::move(t));
    } catch (...) {
        error = std::current_exception();
    }
}

inline sync_wait_frame run_into(task<void> t, std::exception_ptr& error) {
    try {
        co_await std::move(t);
    } catch (...) {
        error = std::current_exception();
    }
}

inline void drive(loop& l, sync_wait_frame frame) {
    loop::thread_binding bind(l);
    frame.handle.resume();
    while (!frame.handle.promise().done) {
        l.run_once(true);
    }
    frame.handle.destroy();
}

}  // namespace detail

/// Runs `t` on `l` from the calling thread and returns its value (or rethrows its exception).
/// Other coroutines on the loop keep running while it waits.
template <class T>
T sync_wait(loop& l, task<T> t) {
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        detail::drive(l, detail::run_into(std::move(t), error));
        if (error) {
            std::rethrow_exception(error);
        }
    } else {
        std::optional<T> value;
        detail::drive(l, detail::run_into(std::move(t), value, error));
        if (error) {
            std::rethrow_exception(error);
        }
        return std::move(*value);
    }
}

}  // namespace tv::io
