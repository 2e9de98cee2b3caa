// SPDX-License-Identifier: Apache-2.0
// The event loop: one io_uring ring, one thread. Operations are awaitables that live in the
// awaiting coroutine's frame and serve as the SQE's user_data; the loop reaps completions first
// and resumes coroutines after, parks operations when the ring is full, and carries cross-thread
// messages (resumptions and cancellation requests) through an eventfd.
#pragma once

#include <liburing.h>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

namespace tv::io {

class loop;

/// The kernel-facing record of one operation. Lifetime rule: an operation (and the buffer it
/// points at) stays alive until its own completion has been reaped, even when it was cancelled,
/// because the kernel may still write into the buffer until then. The awaiting coroutine is
/// resumed only after that completion, so buffers in its frame are safe by construction.
class op_base {
public:
    enum class state : uint8_t { idle, parked, in_kernel, cancel_requested, done };

    op_base() = default;
    op_base(const op_base&) = delete;
    op_base& operator=(const op_base&) = delete;

    state current_state() const noexcept { return _state; }

protected:
    virtual ~op_base() = default;

    /// Fills the SQE for this operation (called when an SQE is available, maybe much later
    /// than await_suspend if the ring was full).
    virtual void prep(io_uring_sqe* sqe) = 0;

    /// Called on the loop thread once the final result is known and no cancellation message
    /// refers to this op any more. The default resumes the awaiting coroutine.
    virtual void on_complete() { _waiter.resume(); }

    /// Starts the operation on the current thread's loop: returns false (do not suspend) when
    /// `stop` was already requested, with `_res` = -ECANCELED.
    bool start(std::coroutine_handle<> waiter, const std::stop_token& stop);

    int _res = 0;

private:
    friend class loop;

    struct cancel_requester {
        op_base* op;
        void operator()() const noexcept;
    };

    std::coroutine_handle<> _waiter;
    loop* _loop = nullptr;
    op_base* _prev = nullptr;  // parked FIFO links
    op_base* _next = nullptr;
    state _state = state::idle;
    bool _cancel_sqe_parked = false;
    std::atomic<uint32_t> _pending_cancel_messages{0};
    std::optional<std::stop_callback<cancel_requester>> _stop_callback;
};

/// Counters for tests, benchmarks and /metrics. Read on the loop's own thread.
struct loop_stats {
    uint64_t submitted = 0;       // SQEs handed to the kernel for operations
    uint64_t completed = 0;       // operation completions reaped
    uint64_t parked = 0;          // times an operation waited for a submission queue entry
    uint64_t cancels_sent = 0;    // IORING_OP_ASYNC_CANCEL requests
    uint64_t resubmitted = 0;     // EINTR resubmissions
    uint32_t in_kernel = 0;       // operations the kernel currently holds
    uint32_t max_in_kernel = 0;
};

struct loop_options {
    /// Submission queue entries: how many operations one submit can carry. Operations started
    /// while it is full wait in the loop (parked) and go in with the next batch. The completion
    /// queue is four times larger, and the kernel keeps overflowing completions (NODROP), so
    /// the number of operations in flight is not bounded by either.
    unsigned entries = 256;
};

class loop {
public:
    explicit loop(loop_options options = {});
    ~loop();
    loop(const loop&) = delete;
    loop& operator=(const loop&) = delete;

    /// The loop running on this thread; aborts if there is none (a programming error).
    static loop& current() noexcept;
    static loop* current_or_null() noexcept;

    /// Binds this loop to the calling thread for the duration of run_* calls.
    class thread_binding {
    public:
        explicit thread_binding(loop& l) noexcept;
        ~thread_binding();
        thread_binding(const thread_binding&) = delete;
        thread_binding& operator=(const thread_binding&) = delete;

    private:
        loop* _previous;
    };

    /// Runs one iteration: resume ready coroutines, submit, wait (if `may_block` and nothing is
    /// ready), reap completions, resume their coroutines.
    void run_once(bool may_block);

    /// Runs until request_stop() is called (from any thread).
    void run_until_stopped();
    void request_stop() noexcept;

    /// Makes the current iteration return without blocking: a driver (sync_wait) whose
    /// condition became true while coroutines ran must get control back to check it.
    void skip_next_wait() noexcept { _skip_wait = true; }

    /// Resumes `h` on this loop's thread; callable from any thread.
    void post(std::coroutine_handle<> h);

    /// Awaitable that moves the awaiting coroutine onto this loop.
    auto schedule() noexcept {
        struct awaiter {
            loop* target;
            bool await_ready() const noexcept { return current_or_null() == target; }
            void await_suspend(std::coroutine_handle<> h) { target->post(h); }
            void await_resume() const noexcept {}
        };
        return awaiter{this};
    }

    /// Awaitable that lets other ready coroutines and completions run first.
    auto yield() noexcept {
        struct awaiter {
            loop* self;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> h) { self->_ready.push_back(h); }
            void await_resume() const noexcept {}
        };
        return awaiter{this};
    }

    const loop_stats& stats() const noexcept { return _stats; }
    io_uring* ring() noexcept { return &_ring; }
    unsigned id() const noexcept { return _id; }
    void set_id(unsigned id) noexcept { _id = id; }

    /// Registered buffer table (see buffer_pool::register_with): the pool whose buffers this
    /// ring knows by index, or nullptr.
    const void* registered_pool() const noexcept { return _registered_pool; }
    void set_registered_pool(const void* pool) noexcept { _registered_pool = pool; }

private:
    friend class op_base;
    class wakeup_op;

    void submit(op_base* op);
    bool try_prep(op_base* op);
    void park(op_base* op);
    void unpark(op_base* op);
    void flush_parked();
    void send_cancel(op_base* op);
    void request_cancel(op_base* op);  // any thread
    void process_cancel(op_base* op);  // loop thread
    void reap();
    void finish(op_base* op);
    void drain_inbox();
    /// Appends to an inbox queue from another thread; the first message since the last drain
    /// writes the eventfd.
    template <class T>
    void send_to_inbox(std::vector<T>& queue, T item);
    void arm_wakeup();
    void wake() noexcept;

    io_uring _ring{};
    unsigned _id = 0;
    unsigned _in_kernel_limit = 0;  // 0: unbounded (the kernel has IORING_FEAT_NODROP)
    bool _poll_events_when_busy = false;
    bool _skip_wait = false;
    loop_stats _stats;
    const void* _registered_pool = nullptr;

    std::deque<std::coroutine_handle<>> _ready;
    op_base* _parked_head = nullptr;
    op_base* _parked_tail = nullptr;
    std::vector<op_base*> _parked_cancels;
    std::vector<op_base*> _completed;  // reused between reaps
    std::vector<op_base*> _local_cancels;

    // Cross-thread inbox, guarded by _inbox_mutex. A message that finds the inbox empty writes
    // the eventfd; the loop drains everything on each eventfd completion.
    std::mutex _inbox_mutex;
    std::vector<std::coroutine_handle<>> _inbox_handles;
    std::vector<op_base*> _inbox_cancels;
    bool _inbox_signalled = false;
    std::vector<std::coroutine_handle<>> _drain_handles;
    std::vector<op_base*> _drain_cancels;

    int _event_fd = -1;
    std::unique_ptr<wakeup_op> _wakeup;
    std::atomic<bool> _stop_requested{false};
};

}  // namespace tv::io
