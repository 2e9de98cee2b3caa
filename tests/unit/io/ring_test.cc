// SPDX-License-Identifier: Apache-2.0
// The ring under load: 1,000 operations in flight, a submission queue far smaller than the
// work (ops park and go in later), and timer accuracy.
#include "io/file.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <vector>

using namespace std::chrono_literals;
namespace io = tv::io;
using tv::testing::temp_dir;

namespace {

io::task<void> make_file(std::string path, size_t blocks) {
    auto f = co_await io::open_file(path, O_CREAT | O_WRONLY | O_TRUNC);
    CO_ASSERT_OK(f);
    std::vector<std::byte> block(4096);
    for (size_t b = 0; b < blocks; ++b) {
        std::fill(block.begin(), block.end(), static_cast<std::byte>(b % 251));
        CO_ASSERT_OK(co_await io::write_fully(f->fd(), block, b * 4096));
    }
}

/// Reads block `b` and checks it carries its own number.
io::task<int> read_block(int fd, size_t b) {
    std::vector<std::byte> block(4096);
    auto n = co_await io::read(fd, block, b * 4096);
    if (!n || *n != 4096) {
        co_return 0;
    }
    for (auto byte : block) {
        if (byte != static_cast<std::byte>(b % 251)) {
            co_return 0;
        }
    }
    co_return 1;
}

io::task<int> timed_sleep(std::chrono::milliseconds d) {
    auto r = co_await io::sleep(d);
    co_return r.has_value() ? 1 : 0;
}

}  // namespace

TEST(ring, thousand_operations_in_flight_on_one_ring) {
    io::loop l(io::loop_options{.entries = 1024});
    auto body = [&]() -> io::task<void> {
        std::vector<io::task<int>> sleeps;
        for (int i = 0; i < 1000; ++i) {
            sleeps.push_back(timed_sleep(100ms));
        }
        auto ok = co_await io::when_all(std::move(sleeps));
        EXPECT_EQ(std::count(ok.begin(), ok.end(), 1), 1000);
    };
    io::sync_wait(l, body());
    EXPECT_GE(l.stats().max_in_kernel, 1000u) << "all 1,000 timers must have been in the kernel at once";
    EXPECT_EQ(l.stats().parked, 0u);
}

TEST(ring, full_submission_queue_parks_instead_of_failing) {
    temp_dir dir;
    io::loop l(io::loop_options{.entries = 8});  // 8 submission entries: far below the work
    auto body = [&]() -> io::task<void> {
        co_await make_file(dir.file("blocks"), 1000);
        auto f = co_await io::open_file(dir.file("blocks"), O_RDONLY);
        CO_ASSERT_OK(f);
        std::vector<io::task<int>> reads;
        for (size_t b = 0; b < 1000; ++b) {
            reads.push_back(read_block(f->fd(), b));
        }
        auto ok = co_await io::when_all(std::move(reads));
        EXPECT_EQ(std::count(ok.begin(), ok.end(), 1), 1000) << "every parked read must still complete correctly";
    };
    io::sync_wait(l, body());
    EXPECT_GT(l.stats().parked, 900u) << "the test must actually overflow the submission queue";
    EXPECT_EQ(l.stats().in_kernel, 1u) << "only the loop's own wake-up read remains";
}

TEST(ring, long_lived_operations_beyond_the_queue_sizes_do_not_starve_others) {
    // 100 idle receives (think: idle client connections) on a ring with 4 submission and 16
    // completion entries must not keep a timer from running.
    io::loop l(io::loop_options{.entries = 4});
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    std::stop_source stop;
    auto idle_recv = [&]() -> io::task<void> {
        std::array<std::byte, 8> buf;
        auto r = co_await io::recv(fds[0], buf, stop.get_token());
        EXPECT_FALSE(r.has_value());
    };
    auto timer = [&]() -> io::task<void> {
        co_await io::sleep(10ms);
        EXPECT_GE(io::loop::current().stats().in_kernel, 100u);
        stop.request_stop();
    };
    auto body = [&]() -> io::task<void> {
        std::vector<io::task<void>> all;
        for (int i = 0; i < 100; ++i) {
            all.push_back(idle_recv());
        }
        all.push_back(timer());
        co_await io::when_all(std::move(all));
    };
    io::sync_wait(l, body());
    ::close(fds[0]);
    ::close(fds[1]);
}

CO_TEST(ring, timer_accuracy) {
    for (auto wanted : {0ms, 5ms, 20ms, 100ms}) {
        auto start = std::chrono::steady_clock::now();
        auto r = co_await io::sleep(wanted);
        auto took = std::chrono::steady_clock::now() - start;
        CO_ASSERT_OK(r);
        EXPECT_GE(took, wanted) << "a timer never fires early";
        // Generous upper bound: sanitizers and a busy 2-core CI machine add latency.
        EXPECT_LT(took, wanted + 50ms) << "timer of " << wanted.count() << " ms took "
                                       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    }
}

CO_TEST(ring, yield_lets_completions_run) {
    io::loop& l = io::loop::current();
    bool slept = false;
    auto sleeper = [&]() -> io::task<void> {
        co_await io::sleep(5ms);
        slept = true;
    };
    auto spinner = [&]() -> io::task<void> {
        // A coroutine that keeps yielding must not starve the timer's completion.
        while (!slept) {
            co_await l.yield();
        }
    };
    co_await io::when_all(sleeper(), spinner());
    EXPECT_TRUE(slept);
}
