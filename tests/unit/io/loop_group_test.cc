// SPDX-License-Identifier: Apache-2.0
// Several loops: running a task on another loop's thread and getting its result back.
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "io/sync_wait.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <thread>

using namespace std::chrono_literals;
namespace io = tv::io;

TEST(loop_group, submit_to_runs_there_and_resumes_here) {
    io::loop_group loops(2);
    auto elsewhere = [&]() -> io::task<std::thread::id> {
        EXPECT_EQ(&io::loop::current(), &loops.at(1));
        co_await io::sleep(1ms);  // a real operation on the other ring
        co_return std::this_thread::get_id();
    };
    auto body = [&]() -> io::task<void> {
        const auto here = std::this_thread::get_id();
        auto there = co_await io::submit_to(loops.at(1), elsewhere());
        EXPECT_NE(there, here);
        EXPECT_EQ(std::this_thread::get_id(), here) << "the caller resumes on its own loop";
        EXPECT_EQ(&io::loop::current(), &loops.main_loop());
    };
    io::sync_wait(loops.main_loop(), body());
}

TEST(loop_group, exceptions_cross_back) {
    io::loop_group loops(2);
    auto failing = []() -> io::task<void> {
        co_await io::sleep(1ms);
        throw std::runtime_error("from loop 1");
    };
    auto body = [&]() -> io::task<void> {
        bool caught = false;
        try {
            co_await io::submit_to(loops.at(1), failing());
        } catch (const std::runtime_error& e) {
            caught = true;
            EXPECT_STREQ(e.what(), "from loop 1");
        }
        EXPECT_TRUE(caught);
    };
    io::sync_wait(loops.main_loop(), body());
}

TEST(loop_group, many_hops_between_loops) {
    io::loop_group loops(3);
    auto body = [&]() -> io::task<void> {
        int total = 0;
        for (int i = 0; i < 2000; ++i) {
            total += co_await io::submit_to(loops.at(1 + i % 2), [](int v) -> io::task<int> { co_return v; }(1));
        }
        EXPECT_EQ(total, 2000);
        // And concurrently: work handed to every loop at once.
        std::vector<io::task<int>> fan;
        for (int i = 0; i < 300; ++i) {
            fan.push_back(io::submit_to(loops.at(i % 3), [](int v) -> io::task<int> {
                co_await io::sleep(1ms);
                co_return v * 2;
            }(i)));
        }
        auto doubled = co_await io::when_all(std::move(fan));
        for (int i = 0; i < 300; ++i) {
            CO_ASSERT_EQ(doubled[i], i * 2);
        }
    };
    io::sync_wait(loops.main_loop(), body());
}

TEST(loop_group, zero_means_one_loop_per_core) {
    io::loop_group loops(0);
    EXPECT_EQ(loops.size(), std::max(1u, std::thread::hardware_concurrency()));
}
