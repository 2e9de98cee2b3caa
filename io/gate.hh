// SPDX-License-Identifier: Apache-2.0
// gate: "stop taking new work, then wait for the work in flight" for every long-lived service,
// and spawn(): start a detached task that holds the gate until it ends. A gate belongs to one
// loop; enter, leave and close it on that loop's thread.
#pragma once

#include "io/log.hh"
#include "io/loop.hh"
#include "io/task.hh"

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <utility>

namespace tv::io {

class gate_closed_error : public std::runtime_error {
public:
    gate_closed_error() : std::runtime_error("gate closed: shutting down") {}
};

class gate {
public:
    /// Proof of an entry; leaving happens when the holder is destroyed.
    class holder {
    public:
        holder() noexcept = default;
        explicit holder(gate* g) noexcept : _gate(g) {}
        holder(holder&& other) noexcept : _gate(std::exchange(other._gate, nullptr)) {}
        holder& operator=(holder&& other) noexcept {
            if (this != &other) {
                release();
                _gate = std::exchange(other._gate, nullptr);
            }
            return *this;
        }
        ~holder() { release(); }

    private:
        void release() noexcept {
            if (_gate != nullptr) {
                std::exchange(_gate, nullptr)->leave();
            }
        }
        gate* _gate = nullptr;
    };

    gate() = default;
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;

    /// Enters unless closed.
    std::optional<holder> try_enter() noexcept {
        if (_closed) {
            return std::nullopt;
        }
        ++_count;
        return holder{this};
    }

    /// Enters or throws gate_closed_error.
    holder enter() {
        auto h = try_enter();
        if (!h) {
            throw gate_closed_error();
        }
        return std::move(*h);
    }

    /// Refuses new entries and completes when every holder has left.
    auto close() noexcept {
        _closed = true;
        struct awaiter {
            gate* self;
            bool await_ready() const noexcept { return self->_count == 0; }
            void await_suspend(std::coroutine_handle<> h) noexcept { self->_closer = h; }
            void await_resume() const noexcept {}
        };
        return awaiter{this};
    }

    bool is_closed() const noexcept { return _closed; }
    size_t count() const noexcept { return _count; }

private:
    void leave() noexcept {
        if (--_count == 0 && _closer) {
            loop::current().post(std::exchange(_closer, {}));
        }
    }

    size_t _count = 0;
    bool _closed = false;
    std::coroutine_handle<> _closer;
};

namespace detail {

struct detached_frame {
    struct promise_type {
        detached_frame get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };
};

inline detached_frame run_detached(gate::holder hold, task<void> t, const char* what) {
    try {
        co_await std::move(t);
    } catch (const std::exception& e) {
        TV_LOG_ERROR("background task '{}' failed: {}", what, e.what());
    } catch (...) {
        TV_LOG_ERROR("background task '{}' failed with a non-standard exception", what);
    }
    (void)hold;  // leaves the gate as the frame ends
}

}  // namespace detail

/// Starts `t` now on the current loop, detached, holding `g` until it ends. Returns false (and
/// destroys `t` unstarted) when the gate is closed. Failures are logged, never lost silently.
inline bool spawn(gate& g, task<void> t, const char* what = "task") {
    auto hold = g.try_enter();
    if (!hold) {
        return false;
    }
    detail::run_detached(std::move(*hold), std::move(t), what);
    return true;
}

}  // namespace tv::io
