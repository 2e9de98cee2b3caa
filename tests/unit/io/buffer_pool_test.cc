// SPDX-License-Identifier: Apache-2.0
// The buffer pool: alignment, exhaustion blocks and resumes (FIFO, across loops), stop while
// waiting, the bound holds under contention, and registered-buffer I/O.
#include "io/buffer_pool.hh"
#include "io/file.hh"
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

using namespace std::chrono_literals;
namespace io = tv::io;

TEST(buffer_pool, aligned_buffers_within_budget) {
    EXPECT_EQ(io::buffer_pool::count_for_budget(256u << 20, 1u << 20), 256u);
    EXPECT_EQ(io::buffer_pool::count_for_budget(1u << 20, 1u << 20), 2u) << "never fewer than two";
    io::buffer_pool pool(1 << 20, 4);
    EXPECT_EQ(pool.capacity(), 4u);
    std::vector<io::pooled_buffer> held;
    for (int i = 0; i < 4; ++i) {
        auto b = pool.try_acquire();
        ASSERT_TRUE(b.has_value());
        EXPECT_EQ(reinterpret_cast<uintptr_t>(b->span().data()) % 4096, 0u);
        EXPECT_EQ(b->span().size(), 1u << 20);
        held.push_back(std::move(*b));
    }
    EXPECT_FALSE(pool.try_acquire().has_value()) << "the pool never grows past its budget";
    held.pop_back();
    EXPECT_EQ(pool.available(), 1u);
}

namespace {

/// AnonHugePages of the mapping that contains `address`, from /proc/self/smaps, in KiB.
long anon_huge_kib(const void* address) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    auto target = reinterpret_cast<uintptr_t>(address);
    while (std::getline(smaps, line)) {
        unsigned long lo = 0;
        unsigned long hi = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find('-') < 17) {
            inside = target >= lo && target < hi;
        } else if (inside && line.starts_with("AnonHugePages:")) {
            return std::stol(line.substr(14));
        }
    }
    return -1;
}

}  // namespace

TEST(buffer_pool, memory_is_pretouched_huge_pages_where_allowed) {
    std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string mode;
    std::getline(thp, mode);
    if (mode.empty() || mode.find("[never]") != std::string::npos) {
        GTEST_SKIP() << "transparent huge pages are off on this system (" << mode << ")";
    }
    io::buffer_pool pool(1 << 20, 8);
    auto b = pool.try_acquire();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b->span().data()) % (2u << 20), 0u) << "2 MiB aligned";
    EXPECT_GE(anon_huge_kib(b->span().data()), 8 * 1024) << "the 8 MiB pool should be huge pages";
}

CO_TEST(buffer_pool, exhaustion_blocks_then_resumes_in_fifo_order) {
    io::buffer_pool pool(4096, 2);
    auto a = pool.try_acquire();
    auto b = pool.try_acquire();
    CO_ASSERT_TRUE(a && b);
    std::vector<int> order;
    auto taker = [&](int id) -> io::task<void> {
        auto buf = co_await pool.acquire();
        CO_ASSERT_TRUE(buf.has_value());
        order.push_back(id);
        co_await io::sleep(1ms);
    };
    auto releaser = [&]() -> io::task<void> {
        co_await io::sleep(10ms);
        EXPECT_EQ(pool.waiting(), 3u) << "takers wait instead of allocating";
        EXPECT_TRUE(order.empty());
        a.reset();
        b.reset();
    };
    co_await io::when_all(taker(1), taker(2), taker(3), releaser());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(pool.available(), 2u);
}

CO_TEST(buffer_pool, stop_while_waiting_yields_nothing) {
    io::buffer_pool pool(4096, 2);
    auto a = pool.try_acquire();
    auto b = pool.try_acquire();
    std::stop_source stop;
    auto taker = [&]() -> io::task<void> {
        auto buf = co_await pool.acquire(stop.get_token());
        EXPECT_FALSE(buf.has_value());
    };
    auto stopper = [&]() -> io::task<void> {
        co_await io::sleep(5ms);
        stop.request_stop();
    };
    co_await io::when_all(taker(), stopper());
    EXPECT_EQ(pool.waiting(), 0u);
    a.reset();
    EXPECT_EQ(pool.available(), 1u) << "a cancelled waiter must not swallow a released buffer";
}

TEST(buffer_pool, release_on_one_loop_wakes_a_taker_on_another) {
    io::loop_group loops(2);
    io::buffer_pool pool(4096, 1);
    auto body = [&]() -> io::task<void> {
        auto held = pool.try_acquire();
        CO_ASSERT_TRUE(held.has_value());
        // Named, not a temporary in the co_await expression: its captures must outlive the
        // suspension (see docs/architecture.md, GCC 12 rules).
        auto release_there = [&]() -> io::task<void> {
            co_await io::sleep(10ms);
            held.reset();  // released on loop 1's thread
        };
        auto releaser = [&]() -> io::task<void> { co_await io::submit_to(loops.at(1), release_there()); };
        auto taker = [&]() -> io::task<void> {
            auto buf = co_await pool.acquire();
            EXPECT_TRUE(buf.has_value());
            EXPECT_EQ(&io::loop::current(), &loops.main_loop());
        };
        co_await io::when_all(taker(), releaser());
    };
    io::sync_wait(loops.main_loop(), body());
}

TEST(buffer_pool, bound_holds_with_many_concurrent_takers_on_every_loop) {
    io::loop_group loops(2);
    io::buffer_pool pool(64 * 1024, 4);
    std::atomic<int> in_use{0};
    std::atomic<int> peak{0};
    auto worker = [&]() -> io::task<void> {
        for (int i = 0; i < 20; ++i) {
            auto buf = co_await pool.acquire();
            int now = ++in_use;
            int seen = peak.load();
            while (now > seen && !peak.compare_exchange_weak(seen, now)) {
            }
            co_await io::sleep(100us);
            --in_use;
        }
    };
    auto body = [&]() -> io::task<void> {
        std::vector<io::task<void>> workers;
        for (int i = 0; i < 64; ++i) {
            workers.push_back(io::submit_to(loops.at(i % 2), worker()));
        }
        co_await io::when_all(std::move(workers));
    };
    io::sync_wait(loops.main_loop(), body());
    EXPECT_EQ(peak.load(), 4) << "64 takers, 4 buffers: never more than 4 in use, and all of them used";
    EXPECT_EQ(pool.available(), 4u);
}

CO_TEST(buffer_pool, registered_buffers_read_and_write_fixed) {
    tv::testing::temp_dir dir;
    io::buffer_pool pool(1 << 16, 2);
    io::loop& l = io::loop::current();
    auto ec = pool.register_with(l);
    EXPECT_FALSE(ec) << ec.message();
    CO_ASSERT_FALSE(ec);
    auto out = pool.try_acquire();
    auto in = pool.try_acquire();
    CO_ASSERT_TRUE(out && in);
    CO_ASSERT_GE(out->fixed_index(), 0);
    std::memset(out->span().data(), 0xab, out->span().size());

    auto f = co_await io::open_file(dir.file("fixed"), O_CREAT | O_RDWR | O_TRUNC);
    CO_ASSERT_OK(f);
    auto w = co_await io::write_fixed(f->fd(), out->span(), 0, out->fixed_index());
    CO_ASSERT_OK(w);
    EXPECT_EQ(*w, out->span().size());
    auto r = co_await io::read_fixed(f->fd(), in->span(), 0, in->fixed_index());
    CO_ASSERT_OK(r);
    EXPECT_EQ(*r, in->span().size());
    EXPECT_EQ(std::memcmp(in->span().data(), out->span().data(), in->span().size()), 0);
}
