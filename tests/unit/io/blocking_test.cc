// SPDX-License-Identifier: Apache-2.0
// run_blocking and sync_filesystem: the call runs on another thread while the loop goes on
// serving, the caller resumes on its own loop thread with the call's result, and syncfs reports
// a bad descriptor as an error.
#include "io/blocking.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "support/co_test.hh"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace io = tv::io;

namespace {

io::task<void> count_ticks(std::atomic<bool>* done, int* ticks) {
    while (!done->load()) {
        co_await io::sleep(5ms);
        ++*ticks;
    }
}

io::task<void> block_for_a_while(std::atomic<bool>* done, std::thread::id* ran_on) {
    *ran_on = co_await io::run_blocking([] {
        std::this_thread::sleep_for(100ms);
        return std::this_thread::get_id();
    });
    done->store(true);
}

}  // namespace

CO_TEST(run_blocking, runs_elsewhere_while_the_loop_serves_and_resumes_on_the_loop) {
    std::atomic<bool> done{false};
    int ticks = 0;
    std::thread::id ran_on;
    std::vector<io::task<void>> both;
    both.push_back(block_for_a_while(&done, &ran_on));
    both.push_back(count_ticks(&done, &ticks));
    co_await io::when_all(std::move(both));
    EXPECT_NE(ran_on, std::this_thread::get_id()) << "the call ran on a thread of its own";
    EXPECT_GE(ticks, 5) << "the loop went on serving while the call blocked";
}

CO_TEST(sync_filesystem, syncs_a_directorys_file_system_and_reports_a_bad_descriptor) {
    tv::testing::temp_dir dir;
    int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CO_ASSERT_TRUE(fd >= 0);
    auto synced = co_await io::sync_filesystem(fd);
    EXPECT_TRUE(synced.has_value()) << synced.error().message();
    ::close(fd);
    auto bad = co_await io::sync_filesystem(-1);
    CO_ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), std::errc::bad_file_descriptor);
}
