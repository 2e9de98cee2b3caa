// SPDX-License-Identifier: Apache-2.0
// turnstile: lets coroutines that work concurrently take turns in a fixed order (0, 1, 2, ...),
// so work done out of order can be consumed in order: the transfer engine feeds a file's digest
// from parts read concurrently. Single-loop: every coroutine that waits or passes runs on the
// loop that owns the turnstile.
#pragma once

#include "io/loop.hh"

#include <coroutine>
#include <cstdint>
#include <map>

namespace tv::io {

class turnstile {
public:
    struct awaiter {
        turnstile& gate;
        uint64_t turn;
        bool await_ready() const noexcept { return gate._next == turn; }
        void await_suspend(std::coroutine_handle<> h) { gate._waiting[turn] = h; }
        void await_resume() const noexcept {}
    };

    /// Resumes when every turn before `turn` has been passed. One waiter per turn.
    awaiter wait(uint64_t turn) { return awaiter{*this, turn}; }

    /// Ends the current turn. Every turn taken must be passed, failed work included, or later
    /// turns wait forever. The next waiter is resumed through the loop, not inline, so the
    /// passer's stack does not grow with a chain of waiters.
    void pass() {
        ++_next;
        if (auto it = _waiting.find(_next); it != _waiting.end()) {
            auto h = it->second;
            _waiting.erase(it);
            loop::current().post(h);
        }
    }

    /// The turn that may go now.
    uint64_t next() const noexcept { return _next; }

private:
    uint64_t _next = 0;
    std::map<uint64_t, std::coroutine_handle<>> _waiting;
};

}  // namespace tv::io
