// SPDX-License-Identifier: Apache-2.0
// Taking a transfer's bytes from the engine's throttle and the job's.
#include "pipeline/transfer_limits.hh"

#include <algorithm>

namespace tv::pipeline {

namespace {

/// The engine's bucket while it has a rate, then the job's, always. The slower bucket sets the
/// pace and the other refills meanwhile, so the wait is the longer of the two, not their sum.
/// A free coroutine with by-value parameters, not a capturing lambda coroutine: body_pacer's
/// lambda is gone by the time the task it returns first runs. (And no co_await on the right
/// of `&&`: GCC 12 compiles `p != nullptr && !co_await ...` here into a trap.)
io::task<bool> take_both(throttle* engine, throttle* job, std::stop_token stop, uint64_t n) {
    bool allowed = true;
    if (!engine->unlimited()) {
        allowed = co_await engine->take(n, stop);
    }
    if (allowed && job != nullptr) {
        allowed = co_await job->take(n, stop);
    }
    co_return allowed;
}

io::task<bool> take_both_and_tell(throttle* engine, throttle* job, std::stop_token stop, uint64_t n,
                                  std::function<void(size_t)> on_taken) {
    bool allowed = co_await take_both(engine, job, std::move(stop), n);
    if (allowed) {
        on_taken(static_cast<size_t>(n));
    }
    co_return allowed;
}

}  // namespace

uint64_t transfer_limits::lowest_rate() const {
    uint64_t rate = engine->rate();
    uint64_t own = job != nullptr ? job->rate() : 0;
    return rate == 0 || (own != 0 && own < rate) ? own : rate;
}

io::task<bool> transfer_limits::take(uint64_t n, std::stop_token stop) const {
    return take_both(engine, job, std::move(stop), n);
}

remote::body_pacer transfer_limits::body_pacer(uint64_t length, std::stop_token stop,
                                               std::function<void(size_t)> on_taken) const {
    remote::body_pacer pacer;
    if (!active()) {
        return pacer;
    }
    if (on_taken) {
        pacer.take = [engine = engine, job = job, stop, on_taken](size_t n) {
            return take_both_and_tell(engine, job, stop, n, on_taken);
        };
    } else {
        pacer.take = [engine = engine, job = job, stop](size_t n) { return take_both(engine, job, stop, n); };
    }
    pacer.slice = static_cast<size_t>(engine->slice_bytes());
    if (job != nullptr) {
        pacer.slice = std::min(pacer.slice, static_cast<size_t>(job->slice_bytes()));
    }
    // Waiting for tokens is not the server being slow: allow twice the paced time on top of
    // the request timeout (the limit may be lowered while the body goes out).
    uint64_t rate = lowest_rate();
    pacer.allowance = std::chrono::milliseconds(rate == 0 ? 1000 : 2000 * length / rate + 1000);
    pacer.expected = length;
    return pacer;
}

}  // namespace tv::pipeline
