// SPDX-License-Identifier: Apache-2.0
// when_all: run tasks concurrently on the current loop and resume when every one has finished.
// All of them always run to the end; the first failure is rethrown after that (collectAll
// semantics), so no child is ever abandoned mid-operation with a buffer in the kernel.
#pragma once

#include "io/task.hh"

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <vector>

namespace tv::io {

namespace detail {

struct when_all_latch {
    size_t remaining;
    std::coroutine_handle<> parent;
    std::exception_ptr first_error;
};

/// One child's frame: awaits the child task, records its outcome, counts down the latch and,
/// as the last one, transfers straight to the parent.
struct when_all_child {
    struct promise_type {
        when_all_latch* latch = nullptr;
        when_all_child get_return_object() noexcept {
            return when_all_child{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        auto final_suspend() noexcept {
            struct awaiter {
                bool await_ready() const noexcept { return false; }
                std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                    when_all_latch* l = h.promise().latch;
                    return --l->remaining == 0 ? l->parent : std::noop_coroutine();
                }
                void await_resume() const noexcept {}
            };
            return awaiter{};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }  // bodies catch everything
    };

    explicit when_all_child(std::coroutine_handle<promise_type> h) noexcept : handle(h) {}
    when_all_child(when_all_child&& other) noexcept : handle(std::exchange(other.handle, {})) {}
    when_all_child& operator=(when_all_child&&) = delete;
    ~when_all_child() {
        if (handle) {
            handle.destroy();
        }
    }

    std::coroutine_handle<promise_type> handle;
};

template <class T>
when_all_child run_child(task<T> t, std::optional<T>& slot, when_all_latch& latch) {
    try {
        slot.emplace(co_await std::move(t));
    } catch (...) {
        if (!latch.first_error) {
            latch.first_error = std::current_exception();
        }
    }
}

inline when_all_child run_child(task<void> t, when_all_latch& latch) {
    try {
        co_await std::move(t);
    } catch (...) {
        if (!latch.first_error) {
            latch.first_error = std::current_exception();
        }
    }
}

/// Starts every child, then suspends the parent until the latch reaches zero. The latch starts
/// at n + 1 so that children finishing during start-up cannot resume a parent still starting.
struct when_all_start {
    std::vector<when_all_child>& children;
    when_all_latch& latch;
    bool await_ready() const noexcept { return children.empty(); }
    bool await_suspend(std::coroutine_handle<> parent) noexcept {
        latch.parent = parent;
        for (auto& child : children) {
            child.handle.promise().latch = &latch;
            child.handle.resume();
        }
        return --latch.remaining != 0;
    }
    void await_resume() const noexcept {}
};

}  // namespace detail

/// Runs every task concurrently; yields their values in order.
template <class T>
    requires(!std::is_void_v<T>)
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
    detail::when_all_latch latch{tasks.size() + 1, {}, {}};
    std::vector<std::optional<T>> slots(tasks.size());
    std::vector<detail::when_all_child> children;
    children.reserve(tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) {
        children.push_back(detail::run_child(std::move(tasks[i]), slots[i], latch));
    }
    co_await detail::when_all_start{children, latch};
    if (latch.first_error) {
        std::rethrow_exception(latch.first_error);
    }
    std::vector<T> values;
    values.reserve(slots.size());
    for (auto& slot : slots) {
        values.push_back(std::move(*slot));
    }
    co_return values;
}

/// Runs every task concurrently; completes when all have finished.
inline task<void> when_all(std::vector<task<void>> tasks) {
    detail::when_all_latch latch{tasks.size() + 1, {}, {}};
    std::vector<detail::when_all_child> children;
    children.reserve(tasks.size());
    for (auto& t : tasks) {
        children.push_back(detail::run_child(std::move(t), latch));
    }
    co_await detail::when_all_start{children, latch};
    if (latch.first_error) {
        std::rethrow_exception(latch.first_error);
    }
}

/// Variadic convenience for a few void tasks.
template <class... Tasks>
    requires(std::is_same_v<Tasks, task<void>> && ...)
task<void> when_all(Tasks... tasks) {
    std::vector<task<void>> list;
    list.reserve(sizeof...(Tasks));
    (list.push_back(std::move(tasks)), ...);
    co_await when_all(std::move(list));
}

}  // namespace tv::io
