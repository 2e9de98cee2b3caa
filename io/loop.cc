// SPDX-License-Identifier: Apache-2.0
// The event loop's submission, completion, parking, cancellation and inbox machinery.
#include "io/loop.hh"

#include "io/error.hh"
#include "io/log.hh"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

namespace tv::io {

namespace {
thread_local loop* t_current_loop = nullptr;
}

// Keeps one 8-byte read posted on the loop's eventfd; its completion drains the inbox.
class loop::wakeup_op final : public op_base {
public:
    explicit wakeup_op(loop& owner) : _owner(owner) {}

    void arm() {
        op_base::_loop = &_owner;
        _owner.submit(this);
    }

private:
    void prep(io_uring_sqe* sqe) override {
        // eventfd reads must be exactly 8 bytes.
        io_uring_prep_read(sqe, _owner._event_fd, &_counter, sizeof(_counter), 0);
    }
    void on_complete() override {
        if (_res < 0 && _res != -EAGAIN && _res != -EINTR) {
            TV_LOG_ERROR("loop {}: eventfd read failed: {}", _owner._id, errno_text(-_res));
        }
        arm();
        _owner.drain_inbox();
    }

    loop& _owner;
    uint64_t _counter = 0;
};

void op_base::cancel_requester::operator()() const noexcept {
    op->_loop->request_cancel(op);
}

bool op_base::start(std::coroutine_handle<> waiter, const std::stop_token& stop) {
    if (stop.stop_requested()) {
        _res = -ECANCELED;
        _state = state::done;
        return false;
    }
    _waiter = waiter;
    _loop = &loop::current();
    _loop->submit(this);
    if (stop.stop_possible()) {
        // May run at once (on this thread) if a stop raced in; that only queues a message.
        _stop_callback.emplace(stop, cancel_requester{this});
    }
    return true;
}

loop::loop(loop_options options) {
    // COOP_TASKRUN: no IPIs interrupting the thread for completions; TASKRUN_FLAG: the kernel
    // raises IORING_SQ_TASKRUN when completions wait for us, so a busy loop enters the kernel
    // only then (liburing checks it). Kernels before 5.19 lack both: there a busy iteration
    // asks for events explicitly.
    // A completion queue four times the submission queue absorbs bursts without overflow.
    io_uring_params params{};
    params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_CQSIZE;
    params.cq_entries = options.entries * 4;
    int rc = io_uring_queue_init_params(options.entries, &_ring, &params);
    if (rc == -EINVAL) {
        params = io_uring_params{};
        params.flags = IORING_SETUP_CQSIZE;
        params.cq_entries = options.entries * 4;
        _poll_events_when_busy = true;
        rc = io_uring_queue_init_params(options.entries, &_ring, &params);
    }
    if (rc < 0) {
        throw std::system_error(errno_error(-rc), "io_uring_queue_init");
    }
    _in_kernel_limit = (params.features & IORING_FEAT_NODROP) != 0 ? 0 : params.cq_entries;
    _event_fd = ::eventfd(0, EFD_CLOEXEC);
    if (_event_fd < 0) {
        int err = errno;
        io_uring_queue_exit(&_ring);
        throw std::system_error(errno_error(err), "eventfd");
    }
    _wakeup = std::make_unique<wakeup_op>(*this);
    _wakeup->arm();
}

loop::~loop() {
    io_uring_queue_exit(&_ring);
    ::close(_event_fd);
}

loop& loop::current() noexcept {
    if (t_current_loop == nullptr) {
        TV_LOG_ERROR("no io::loop is bound to this thread");
        std::abort();
    }
    return *t_current_loop;
}

loop* loop::current_or_null() noexcept {
    return t_current_loop;
}

loop::thread_binding::thread_binding(loop& l) noexcept : _previous(t_current_loop) {
    t_current_loop = &l;
}

loop::thread_binding::~thread_binding() {
    t_current_loop = _previous;
}

void loop::submit(op_base* op) {
    if (_parked_head != nullptr || !try_prep(op)) {
        park(op);
    }
}

bool loop::try_prep(op_base* op) {
    // Only kernels without IORING_FEAT_NODROP could lose completions beyond the completion
    // queue; there (and only there) the queue's size bounds what we hand to the kernel.
    if (_in_kernel_limit != 0 && _stats.in_kernel >= _in_kernel_limit) {
        return false;
    }
    // A full submission queue parks the op; run_once submits the batch and drains the parked
    // ops after it, so no syscall happens in the middle of resuming coroutines.
    io_uring_sqe* sqe = io_uring_get_sqe(&_ring);
    if (sqe == nullptr) {
        return false;
    }
    op->prep(sqe);
    io_uring_sqe_set_data(sqe, op);
    op->_state = op_base::state::in_kernel;
    ++_stats.submitted;
    if (++_stats.in_kernel > _stats.max_in_kernel) {
        _stats.max_in_kernel = _stats.in_kernel;
    }
    return true;
}

void loop::park(op_base* op) {
    op->_state = op_base::state::parked;
    op->_next = nullptr;
    op->_prev = _parked_tail;
    if (_parked_tail != nullptr) {
        _parked_tail->_next = op;
    } else {
        _parked_head = op;
    }
    _parked_tail = op;
    ++_stats.parked;
}

void loop::unpark(op_base* op) {
    (op->_prev != nullptr ? op->_prev->_next : _parked_head) = op->_next;
    (op->_next != nullptr ? op->_next->_prev : _parked_tail) = op->_prev;
    op->_prev = op->_next = nullptr;
}

void loop::flush_parked() {
    while (!_parked_cancels.empty()) {
        io_uring_sqe* sqe = io_uring_get_sqe(&_ring);
        if (sqe == nullptr) {
            return;
        }
        op_base* target = _parked_cancels.front();
        _parked_cancels.erase(_parked_cancels.begin());
        target->_cancel_sqe_parked = false;
        io_uring_prep_cancel(sqe, target, 0);
        io_uring_sqe_set_data(sqe, nullptr);
        ++_stats.cancels_sent;
    }
    while (_parked_head != nullptr) {
        op_base* op = _parked_head;
        if (!try_prep(op)) {
            return;
        }
        unpark(op);
    }
}

void loop::send_cancel(op_base* op) {
    io_uring_sqe* sqe = io_uring_get_sqe(&_ring);
    if (sqe == nullptr) {
        op->_cancel_sqe_parked = true;
        _parked_cancels.push_back(op);
        return;
    }
    // The cancel's own completion carries user_data 0 and is ignored: the target's completion
    // (usually -ECANCELED, or its real result if it won the race) is what ends the target.
    io_uring_prep_cancel(sqe, op, 0);
    io_uring_sqe_set_data(sqe, nullptr);
    ++_stats.cancels_sent;
}

void loop::request_cancel(op_base* op) {
    op->_pending_cancel_messages.fetch_add(1, std::memory_order_relaxed);
    if (current_or_null() == this) {
        _local_cancels.push_back(op);
        return;
    }
    send_to_inbox(_inbox_cancels, op);
}

template <class T>
void loop::send_to_inbox(std::vector<T>& queue, T item) {
    bool must_wake = false;
    {
        std::lock_guard lock(_inbox_mutex);
        queue.push_back(item);
        must_wake = !std::exchange(_inbox_signalled, true);
    }
    if (must_wake) {
        wake();
    }
}

void loop::process_cancel(op_base* op) {
    uint32_t remaining = op->_pending_cancel_messages.fetch_sub(1, std::memory_order_acq_rel) - 1;
    switch (op->_state) {
    case op_base::state::parked:
        unpark(op);
        op->_res = -ECANCELED;
        finish(op);
        break;
    case op_base::state::in_kernel:
        op->_state = op_base::state::cancel_requested;
        send_cancel(op);
        break;
    case op_base::state::cancel_requested:
    case op_base::state::idle:
        break;
    case op_base::state::done:
        // The op's completion arrived while this message was on its way; it waited for us.
        if (remaining == 0) {
            op->on_complete();
        }
        break;
    }
}

void loop::finish(op_base* op) {
    op->_state = op_base::state::done;
    // Destroying the callback waits for a concurrent invocation on another thread, so after
    // this line no new cancellation message for `op` can appear.
    op->_stop_callback.reset();
    if (op->_pending_cancel_messages.load(std::memory_order_acquire) == 0) {
        op->on_complete();
    }
}

void loop::reap() {
    unsigned head = 0;
    unsigned count = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&_ring, head, cqe) {
        ++count;
        auto* op = static_cast<op_base*>(io_uring_cqe_get_data(cqe));
        if (op == nullptr) {
            continue;  // completion of an ASYNC_CANCEL request
        }
        op->_res = cqe->res;
        _completed.push_back(op);
    }
    io_uring_cq_advance(&_ring, count);

    // Reap first, resume after: coroutines resumed below may queue new SQEs, which batch into
    // the next submit, and the stack never grows with the number of completions.
    std::vector<op_base*> batch;
    batch.swap(_completed);
    for (op_base* op : batch) {
        --_stats.in_kernel;
        ++_stats.completed;
        if (op->_cancel_sqe_parked) {
            std::erase(_parked_cancels, op);
            op->_cancel_sqe_parked = false;
        }
        if (op->_res == -EINTR && op->_state == op_base::state::in_kernel) {
            ++_stats.resubmitted;
            submit(op);
            continue;
        }
        if (op->_res == -EINTR) {
            op->_res = -ECANCELED;  // interrupted while a cancel was on its way: report the cancel
        }
        finish(op);
    }
    batch.clear();
    if (_completed.empty()) {
        _completed.swap(batch);  // keep the capacity for the next reap
    }
}

void loop::drain_inbox() {
    {
        std::lock_guard lock(_inbox_mutex);
        _drain_handles.swap(_inbox_handles);
        _drain_cancels.swap(_inbox_cancels);
        _inbox_signalled = false;
    }
    for (auto h : _drain_handles) {
        _ready.push_back(h);
    }
    for (op_base* op : _drain_cancels) {
        process_cancel(op);
    }
    _drain_handles.clear();
    _drain_cancels.clear();
}

void loop::post(std::coroutine_handle<> h) {
    if (current_or_null() == this) {
        _ready.push_back(h);
        return;
    }
    send_to_inbox(_inbox_handles, h);
}

void loop::wake() noexcept {
    uint64_t one = 1;
    // A full eventfd counter (EAGAIN) still means a wake-up is pending, which is all we need.
    [[maybe_unused]] ssize_t n = ::write(_event_fd, &one, sizeof(one));
}

void loop::run_once(bool may_block) {
    if (!_local_cancels.empty()) {
        std::vector<op_base*> cancels;
        cancels.swap(_local_cancels);
        for (op_base* op : cancels) {
            process_cancel(op);
        }
    }
    // Only what was ready when this iteration began: a coroutine that keeps yielding must not
    // starve completions.
    for (size_t n = _ready.size(); n > 0 && !_ready.empty(); --n) {
        auto h = _ready.front();
        _ready.pop_front();
        h.resume();
    }
    // Drain parked ops into the kernel batch by batch; a refusal (EBUSY while completions
    // overflow) leaves the rest for the next iteration, after a reap.
    for (;;) {
        flush_parked();
        if (_parked_head == nullptr && _parked_cancels.empty()) {
            break;
        }
        if (io_uring_submit(&_ring) <= 0) {
            break;
        }
    }
    bool idle = _ready.empty() && _local_cancels.empty() && _parked_head == nullptr && _parked_cancels.empty() &&
                !std::exchange(_skip_wait, false);
    unsigned wait_nr = (may_block && idle && !_stop_requested.load(std::memory_order_relaxed)) ? 1 : 0;
    int rc = io_uring_submit_and_wait(&_ring, wait_nr);
    if (rc >= 0 && wait_nr == 0 && _poll_events_when_busy) {
        rc = io_uring_get_events(&_ring);
    }
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
        TV_LOG_ERROR("loop {}: io_uring_submit_and_wait failed: {}", _id, errno_text(-rc));
        std::abort();
    }
    reap();
}

void loop::run_until_stopped() {
    thread_binding bind(*this);
    while (!_stop_requested.load(std::memory_order_acquire)) {
        run_once(true);
    }
}

void loop::request_stop() noexcept {
    _stop_requested.store(true, std::memory_order_release);
    wake();
}

}  // namespace tv::io
