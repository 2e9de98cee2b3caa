// SPDX-License-Identifier: Apache-2.0
// serial_lock: one-at-a-time for coroutines on one loop, so that a catalog change validates,
// journals and applies before the next change looks at the state. No atomics: one thread.
#pragma once

#include "io/loop.hh"

#include <coroutine>
#include <deque>
#include <utility>

namespace tv::storage {

class serial_lock {
public:
    /// Held until destroyed; moving passes the hold on.
    class guard {
    public:
        explicit guard(serial_lock* lock) noexcept : _lock(lock) {}
        guard(guard&& other) noexcept : _lock(std::exchange(other._lock, nullptr)) {}
        guard& operator=(guard&&) = delete;
        guard(const guard&) = delete;
        ~guard() {
            if (_lock != nullptr) {
                _lock->unlock();
            }
        }

    private:
        serial_lock* _lock;
    };

    serial_lock() = default;
    serial_lock(const serial_lock&) = delete;
    serial_lock& operator=(const serial_lock&) = delete;

    /// `auto hold = co_await lock.lock();` waits in FIFO order.
    auto lock() noexcept {
        struct awaiter {
            serial_lock* self;
            bool await_ready() const noexcept {
                if (!self->_held) {
                    self->_held = true;
                    return true;
                }
                return false;
            }
            void await_suspend(std::coroutine_handle<> h) { self->_waiters.push_back(h); }
            guard await_resume() const noexcept { return guard{self}; }
        };
        return awaiter{this};
    }

    bool held() const noexcept { return _held; }

private:
    void unlock() {
        if (_waiters.empty()) {
            _held = false;
            return;
        }
        // The hold passes straight to the next waiter, resumed from the loop rather than from
        // here, so a chain of quick failures cannot grow the stack.
        auto next = _waiters.front();
        _waiters.pop_front();
        io::loop::current().post(next);
    }

    bool _held = false;
    std::deque<std::coroutine_handle<>> _waiters;
};

}  // namespace tv::storage
