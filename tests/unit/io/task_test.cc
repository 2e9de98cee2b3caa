// SPDX-License-Identifier: Apache-2.0
// task<T>, when_all and sync_wait: values, exceptions, ordering, laziness.
#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <stdexcept>

using namespace std::chrono_literals;
namespace io = tv::io;

namespace {

io::task<int> answer() { co_return 42; }

io::task<int> add_after_sleep(int a, std::chrono::milliseconds delay) {
    co_await io::sleep(delay);
    co_return a + co_await answer();
}

io::task<int> fails() {
    co_await io::sleep(1ms);
    throw std::runtime_error("boom");
}

}  // namespace

TEST(task, is_lazy_until_awaited) {
    bool started = false;
    auto body = [&]() -> io::task<void> {
        started = true;
        co_return;
    };
    io::loop l;
    auto t = body();
    EXPECT_FALSE(started);
    io::sync_wait(l, std::move(t));
    EXPECT_TRUE(started);
}

TEST(task, sync_wait_returns_value_and_rethrows) {
    io::loop l;
    EXPECT_EQ(io::sync_wait(l, add_after_sleep(1, 2ms)), 43);
    EXPECT_THROW(io::sync_wait(l, fails()), std::runtime_error);
}

CO_TEST(when_all, keeps_order_not_completion_order) {
    std::vector<io::task<int>> tasks;
    tasks.push_back(add_after_sleep(1, 30ms));
    tasks.push_back(add_after_sleep(2, 1ms));
    tasks.push_back(add_after_sleep(3, 15ms));
    auto values = co_await io::when_all(std::move(tasks));
    EXPECT_EQ(values, (std::vector<int>{43, 44, 45}));
}

CO_TEST(when_all, runs_every_child_before_rethrowing_the_first_failure) {
    int finished = 0;
    auto slow = [&]() -> io::task<void> {
        co_await io::sleep(20ms);
        ++finished;
    };
    auto bad = []() -> io::task<void> {
        co_await io::sleep(1ms);
        throw std::runtime_error("first");
    };
    bool thrown = false;
    try {
        co_await io::when_all(slow(), bad(), slow());
    } catch (const std::runtime_error& e) {
        thrown = true;
        EXPECT_STREQ(e.what(), "first");
    }
    EXPECT_TRUE(thrown);
    EXPECT_EQ(finished, 2) << "a failing sibling must not abandon the others mid-operation";
}

CO_TEST(when_all, empty_and_synchronous_children) {
    auto none = co_await io::when_all(std::vector<io::task<int>>{});
    EXPECT_TRUE(none.empty());
    std::vector<io::task<int>> instant;
    for (int i = 0; i < 100; ++i) {
        instant.push_back(answer());
    }
    auto values = co_await io::when_all(std::move(instant));
    EXPECT_EQ(values.size(), 100u);
    EXPECT_EQ(values.back(), 42);
}
