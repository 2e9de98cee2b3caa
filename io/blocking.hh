// SPDX-License-Identifier: Apache-2.0
// Blocking calls that io_uring has no operation for (syncfs(2)): each runs on a thread of its
// own and resumes its caller on the caller's loop when it returns, so the loop keeps serving
// meanwhile. Meant for rare, coarse calls (a few per second), not a per-file path.
#pragma once

#include "io/error.hh"
#include "io/loop.hh"
#include "io/task.hh"

#include <coroutine>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace tv::io {

/// Awaits `fn()` run on a new thread. There is no cancellation: a blocking call cannot be
/// interrupted, so the caller (and its loop) waits for it to return; the awaitable, which owns
/// the result, lives in the caller's frame until then.
template <class Fn>
class blocking_call {
public:
    using value_type = std::invoke_result_t<Fn&>;

    explicit blocking_call(Fn fn) : _fn(std::move(fn)) {}

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> caller) {
        loop* home = &loop::current();
        std::thread([this, caller, home] {
            _result.emplace(_fn());
            home->post(caller);
        }).detach();
    }
    value_type await_resume() { return std::move(*_result); }

private:
    Fn _fn;
    std::optional<value_type> _result;
};

template <class Fn>
blocking_call<Fn> run_blocking(Fn fn) {
    return blocking_call<Fn>(std::move(fn));
}

/// syncfs(2) of the file system holding `fd`: every file's data and metadata written before the
/// call is durable when it returns. Writeback errors are reported for those seen since `fd` was
/// opened, so open it before the writes it is to cover.
task<result<void>> sync_filesystem(int fd);

}  // namespace tv::io
