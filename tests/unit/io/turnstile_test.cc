// SPDX-License-Identifier: Apache-2.0
// The turnstile: coroutines that finish their work out of order still take their turns in
// order, the turn that is due goes at once, and a turn passed without work (a failure) still
// lets the later ones go.
#include "io/turnstile.hh"

#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <chrono>
#include <vector>

using namespace std::chrono_literals;
namespace io = tv::io;

namespace {

/// Sleeps `work` (turns finish their work in the reverse of their order), then takes `turn`.
io::task<void> take_turn(io::turnstile* gate, uint64_t turn, std::chrono::milliseconds work,
                         std::vector<uint64_t>* order) {
    co_await io::sleep(work);
    co_await gate->wait(turn);
    order->push_back(turn);
    gate->pass();
}

}  // namespace

CO_TEST(turnstile, turns_go_in_order_whatever_order_the_work_finishes_in) {
    io::turnstile gate;
    std::vector<uint64_t> order;
    std::vector<io::task<void>> tasks;
    for (uint64_t turn = 0; turn < 5; ++turn) {
        auto work = std::chrono::milliseconds(5 * (5 - turn));
        tasks.push_back(take_turn(&gate, turn, work, &order));
    }
    co_await io::when_all(std::move(tasks));
    EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(gate.next(), 5u);
}

CO_TEST(turnstile, the_due_turn_does_not_wait) {
    io::turnstile gate;
    auto waiter = gate.wait(0);
    EXPECT_TRUE(waiter.await_ready());
    EXPECT_FALSE(gate.wait(1).await_ready());
    gate.pass();
    EXPECT_TRUE(gate.wait(1).await_ready());
    co_return;
}

CO_TEST(turnstile, a_turn_passed_without_work_still_lets_later_turns_go) {
    io::turnstile gate;
    std::vector<uint64_t> order;
    auto failed_part = [](io::turnstile* g) -> io::task<void> {
        co_await io::sleep(10ms);
        co_await g->wait(0);
        g->pass();  // nothing to record: its work failed
    };
    std::vector<io::task<void>> tasks;
    tasks.push_back(take_turn(&gate, 2, 0ms, &order));
    tasks.push_back(take_turn(&gate, 1, 0ms, &order));
    tasks.push_back(failed_part(&gate));
    co_await io::when_all(std::move(tasks));
    EXPECT_EQ(order, (std::vector<uint64_t>{1, 2}));
}
