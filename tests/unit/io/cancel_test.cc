// SPDX-License-Identifier: Apache-2.0
// Two-phase cancellation: a stop request sends ASYNC_CANCEL, and the coroutine resumes only on
// the operation's own completion, so its buffer is never written after it was given back.
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <thread>

using namespace std::chrono_literals;
namespace io = tv::io;

namespace {

struct socket_pair {
    int fds[2] = {-1, -1};
    socket_pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
    ~socket_pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

constexpr std::byte k_canary{0x5a};

}  // namespace

CO_TEST(cancel, pending_recv_cancelled_from_the_same_loop) {
    io::loop& l = io::loop::current();
    socket_pair sp;
    std::stop_source stop;
    std::array<std::byte, 64> buffer;
    buffer.fill(k_canary);
    const uint32_t baseline = l.stats().in_kernel;

    auto receiver = [&]() -> io::task<void> {
        auto r = co_await io::recv(sp.fds[0], buffer, stop.get_token());
        CO_ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), std::errc::operation_canceled);
        // Resumed only after the kernel gave the op back: nothing of ours is in the ring now.
        EXPECT_EQ(l.stats().in_kernel, baseline);
    };
    auto canceller = [&]() -> io::task<void> {
        co_await io::sleep(10ms);
        stop.request_stop();
    };
    co_await io::when_all(receiver(), canceller());
    EXPECT_GE(l.stats().cancels_sent, 1u);

    // Data arriving after the cancel must not land in the buffer we were given back.
    const char late[] = "late data";
    CO_ASSERT_EQ(::write(sp.fds[1], late, sizeof(late)), static_cast<ssize_t>(sizeof(late)));
    co_await io::sleep(5ms);
    for (auto b : buffer) {
        CO_ASSERT_EQ(b, k_canary);
    }
}

CO_TEST(cancel, sleeping_timer_cancelled_promptly) {
    std::stop_source stop;
    auto start = std::chrono::steady_clock::now();
    auto sleeper = [&]() -> io::task<void> {
        auto r = co_await io::sleep(30s, stop.get_token());
        CO_ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), std::errc::operation_canceled);
    };
    auto canceller = [&]() -> io::task<void> {
        co_await io::sleep(5ms);
        stop.request_stop();
    };
    co_await io::when_all(sleeper(), canceller());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

CO_TEST(cancel, already_stopped_token_never_reaches_the_kernel) {
    io::loop& l = io::loop::current();
    socket_pair sp;
    std::stop_source stop;
    stop.request_stop();
    const uint64_t submitted = l.stats().submitted;
    std::array<std::byte, 16> buffer{};
    auto r = co_await io::recv(sp.fds[0], buffer, stop.get_token());
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
    EXPECT_EQ(l.stats().submitted, submitted);
}

TEST(cancel, parked_operations_are_cancelled_without_entering_the_kernel) {
    io::loop l(io::loop_options{.entries = 4});
    socket_pair sp;
    std::stop_source stop;
    int cancelled = 0;
    auto waiter = [&](std::span<std::byte> buf) -> io::task<void> {
        auto r = co_await io::recv(sp.fds[0], buf, stop.get_token());
        if (!r && r.error() == std::errc::operation_canceled) {
            ++cancelled;
        }
    };
    uint64_t parked_at_stop = 0;
    auto stopper = [&]() -> io::task<void> {
        // Runs right after the 40 receives started, before the loop submitted anything.
        parked_at_stop = io::loop::current().stats().parked;
        stop.request_stop();
        co_return;
    };
    const uint64_t submitted_before = l.stats().submitted;
    auto body = [&]() -> io::task<void> {
        std::vector<std::array<std::byte, 8>> buffers(40);
        std::vector<io::task<void>> all;
        for (auto& b : buffers) {
            all.push_back(waiter(b));
        }
        all.push_back(stopper());
        co_await io::when_all(std::move(all));
    };
    io::sync_wait(l, body());
    // The submission queue's 4 entries hold the first receives (and the loop's own wake-up
    // read, not yet submitted on a fresh loop); everything else was parked.
    EXPECT_GE(parked_at_stop, 36u);
    EXPECT_EQ(cancelled, 40);
    EXPECT_EQ(l.stats().submitted - submitted_before + parked_at_stop, 40u)
        << "parked ops must never reach the kernel once cancelled";
    EXPECT_EQ(l.stats().in_kernel, 1u);
}

TEST(cancel, stop_requested_from_another_thread) {
    io::loop l;
    socket_pair sp;
    std::stop_source stop;
    std::array<std::byte, 32> buffer;
    buffer.fill(k_canary);
    std::jthread other([&] {
        std::this_thread::sleep_for(20ms);
        stop.request_stop();
    });
    auto r = io::sync_wait(l, [&]() -> io::task<io::result<size_t>> {
        co_return co_await io::recv(sp.fds[0], buffer, stop.get_token());
    }());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
    EXPECT_EQ(l.stats().in_kernel, 1u) << "only the loop's own wake-up read may remain";
}

TEST(cancel, completion_racing_a_cancel_from_another_thread) {
    // The op may complete with data or be cancelled; either way the coroutine resumes exactly
    // once, after the kernel is done with the buffer. Run it many times under the sanitizers.
    io::loop l;
    int got_data = 0;
    int got_cancel = 0;
    for (int round = 0; round < 300; ++round) {
        socket_pair sp;
        std::stop_source stop;
        std::array<std::byte, 8> buffer{};
        std::jthread other([&] {
            const char byte = 'x';
            [[maybe_unused]] auto n = ::write(sp.fds[1], &byte, 1);
            stop.request_stop();
        });
        auto r = io::sync_wait(l, [&]() -> io::task<io::result<size_t>> {
            co_return co_await io::recv(sp.fds[0], buffer, stop.get_token());
        }());
        other.join();
        if (r) {
            ASSERT_EQ(*r, 1u);
            ASSERT_EQ(buffer[0], std::byte{'x'});
            ++got_data;
        } else {
            ASSERT_EQ(r.error(), std::errc::operation_canceled);
            ++got_cancel;
        }
    }
    EXPECT_EQ(got_data + got_cancel, 300);
    EXPECT_EQ(l.stats().in_kernel, 1u);
}

TEST(cancel, one_stop_source_cancels_work_on_every_loop) {
    io::loop_group loops(3);
    std::stop_source job;
    auto cancelled_sleep = [&]() -> io::task<int> {
        auto r = co_await io::sleep(30s, job.get_token());
        co_return (!r && r.error() == std::errc::operation_canceled) ? 1 : 0;
    };
    auto on_loop = [&](unsigned i) -> io::task<int> {
        co_return co_await io::submit_to(loops.at(i), cancelled_sleep());
    };
    auto body = [&]() -> io::task<void> {
        auto stopper = [&]() -> io::task<int> {
            co_await io::sleep(20ms);
            job.request_stop();
            co_return 1;
        };
        std::vector<io::task<int>> all;
        for (unsigned i = 0; i < loops.size(); ++i) {
            all.push_back(on_loop(i));
        }
        all.push_back(stopper());
        auto results = co_await io::when_all(std::move(all));
        EXPECT_EQ(std::count(results.begin(), results.end(), 1), 4);
    };
    auto start = std::chrono::steady_clock::now();
    io::sync_wait(loops.main_loop(), body());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}
