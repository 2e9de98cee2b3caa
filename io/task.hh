// SPDX-License-Identifier: Apache-2.0
// task<T>: the lazy coroutine type of the whole code base. A task does nothing until it is
// awaited; awaiting it starts it by symmetric transfer and resumes the awaiter when it ends.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace tv::io {

template <class T = void>
class task;

namespace detail {

class task_promise_base {
public:
    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
            return self.promise()._continuation;
        }
        void await_resume() const noexcept {}
    };

    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { _exception = std::current_exception(); }

    void set_continuation(std::coroutine_handle<> c) noexcept { _continuation = c; }
    void rethrow_if_failed() const {
        if (_exception) {
            std::rethrow_exception(_exception);
        }
    }

private:
    std::coroutine_handle<> _continuation = std::noop_coroutine();
    std::exception_ptr _exception;
};

template <class T>
class task_promise final : public task_promise_base {
public:
    task<T> get_return_object() noexcept;

    template <class U>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        _value.emplace(std::forward<U>(value));
    }

    T take() {
        rethrow_if_failed();
        return std::move(*_value);
    }

private:
    std::optional<T> _value;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() { rethrow_if_failed(); }
};

}  // namespace detail

/// A lazily started coroutine producing T. Move-only; destroying an unstarted or finished task
/// frees its frame. Await it exactly once.
template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : _handle(h) {}
    task(task&& other) noexcept : _handle(std::exchange(other._handle, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            _handle = std::exchange(other._handle, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    bool valid() const noexcept { return static_cast<bool>(_handle); }

    auto operator co_await() && noexcept {
        struct awaiter {
            std::coroutine_handle<promise_type> handle;
            bool await_ready() const noexcept { return !handle || handle.done(); }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
                handle.promise().set_continuation(awaiting);
                return handle;
            }
            T await_resume() { return handle.promise().take(); }
        };
        return awaiter{_handle};
    }

    /// For drivers (sync_wait, spawn, when_all) that start the frame themselves.
    std::coroutine_handle<promise_type> handle() const noexcept { return _handle; }

private:
    void destroy() noexcept {
        if (_handle) {
            _handle.destroy();
            _handle = {};
        }
    }

    std::coroutine_handle<promise_type> _handle;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

}  // namespace detail

}  // namespace tv::io
