// SPDX-License-Identifier: Apache-2.0
// The gate and spawn: shutdown waits for work in flight, refuses new work, and cancelled work
// really stops.
#include "io/gate.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

using namespace std::chrono_literals;
namespace io = tv::io;

CO_TEST(gate, close_waits_for_every_holder) {
    io::gate g;
    int finished = 0;
    auto work = [&](std::chrono::milliseconds d) -> io::task<void> {
        co_await io::sleep(d);
        ++finished;
    };
    EXPECT_TRUE(io::spawn(g, work(20ms)));
    EXPECT_TRUE(io::spawn(g, work(5ms)));
    EXPECT_EQ(g.count(), 2u);
    co_await g.close();
    EXPECT_EQ(finished, 2);
    EXPECT_EQ(g.count(), 0u);
    EXPECT_FALSE(io::spawn(g, work(1ms))) << "a closed gate refuses new work";
    EXPECT_THROW((void)g.enter(), io::gate_closed_error);
}

CO_TEST(gate, shutdown_with_work_in_flight_cancels_and_drains) {
    io::gate g;
    std::stop_source stop;
    int cancelled = 0;
    auto long_running = [&]() -> io::task<void> {
        auto r = co_await io::sleep(60s, stop.get_token());
        if (!r && r.error() == std::errc::operation_canceled) {
            ++cancelled;
        }
    };
    for (int i = 0; i < 50; ++i) {
        io::spawn(g, long_running());
    }
    co_await io::sleep(5ms);
    auto start = std::chrono::steady_clock::now();
    stop.request_stop();
    co_await g.close();
    EXPECT_EQ(cancelled, 50);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

CO_TEST(gate, a_failing_task_still_leaves_the_gate) {
    io::gate g;
    auto bad = []() -> io::task<void> {
        co_await io::sleep(1ms);
        throw std::runtime_error("logged, not lost");
    };
    io::spawn(g, bad(), "failing task");
    co_await g.close();
    EXPECT_EQ(g.count(), 0u);
}

CO_TEST(gate, close_on_an_idle_gate_is_immediate) {
    io::gate g;
    co_await g.close();
    EXPECT_TRUE(g.is_closed());
}
