// SPDX-License-Identifier: Apache-2.0
// kill -9 during a stream of DDL: a child process applies changes and acknowledges each one
// once durable; we SIGKILL it at random points (some while a change is being written), restart
// the catalog from its files, and require exactly the acknowledged changes, plus at most the
// one that was in flight.
#include "storage_test_util.hh"
#include "support/journal_crash_ops.hh"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

extern char** environ;

namespace tv::testing {
namespace {

constexpr int runs = 20;
constexpr int max_target = 90;
constexpr uint64_t child_checkpoint_every = 7;  // so kills also land in and around checkpoints

/// dumps[n]: the catalog after the first n changes of the stream, computed in-process.
io::task<std::vector<std::string>> reference_dumps(int count) {
    std::vector<std::string> dumps;
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    if (!cat) {
        ADD_FAILURE() << cat.error().message;
        co_return dumps;
    }
    dumps.push_back((*cat)->dump());
    for (int i = 0; i < count; ++i) {
        auto done = co_await crash_stream_op(**cat, i);
        if (!done) {
            ADD_FAILURE() << "reference change " << i << ": " << done.error().message;
            co_return dumps;
        }
        dumps.push_back((*cat)->dump());
    }
    co_return dumps;
}

struct child_run {
    int acked = 0;        // highest "acked n" read, including lines read after the kill
    std::string problem;  // empty when the child ran and was killed as planned
};

/// Starts the child on `data_dir`, kills it once `target` changes are acknowledged (after a
/// random pause of up to `pause_us`, to land inside the next write or fsync), reads every
/// acknowledgement it printed before dying.
child_run run_child(const std::string& data_dir, int target, int pause_us) {
    child_run out;
    int fds[2];
    if (::pipe(fds) != 0) {
        out.problem = "pipe failed";
        return out;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::string child = TV_JOURNAL_CRASH_CHILD;
    std::string every = std::to_string(child_checkpoint_every);
    char* argv[] = {child.data(), const_cast<char*>(data_dir.c_str()), every.data(), nullptr};
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, child.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        out.problem = "posix_spawn failed: " + std::to_string(rc);
        return out;
    }
    std::string pending;
    bool killed = false;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof(buf));
        if (n <= 0) {
            break;  // the child is gone and the pipe drained
        }
        pending.append(buf, static_cast<size_t>(n));
        size_t nl = 0;
        while ((nl = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (line.starts_with("acked ")) {
                out.acked = std::max(out.acked, std::stoi(line.substr(6)));
            }
        }
        if (!killed && out.acked >= target) {
            if (pause_us > 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
            }
            ::kill(pid, SIGKILL);
            killed = true;
        }
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!killed || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        out.problem = "the child ended on its own (status " + std::to_string(status) + ") after " +
                      std::to_string(out.acked) + " acks";
    }
    return out;
}

TEST(JournalCrash, KillNineKeepsExactlyTheAcknowledgedChanges) {
#ifndef TV_JOURNAL_CRASH_CHILD
    GTEST_SKIP() << "journal_crash_child is not built";
#else
    // Generous headroom: acknowledgements read after the kill can pass the target.
    constexpr int reference_count = max_target + 60;
    io::loop loop;
    std::vector<std::string> dumps = io::sync_wait(loop, reference_dumps(reference_count));
    ASSERT_EQ(dumps.size(), static_cast<size_t>(reference_count + 1));

    std::mt19937 rng(20240607);
    int in_flight_landed = 0;
    for (int run = 0; run < runs; ++run) {
        int target = static_cast<int>(rng() % max_target) + 1;
        int pause_us = run % 4 == 0 ? 0 : static_cast<int>(rng() % 3000);
        temp_dir dir;
        child_run result = run_child(dir.path(), target, pause_us);
        ASSERT_TRUE(result.problem.empty()) << result.problem;
        ASSERT_GE(result.acked, target);
        ASSERT_LT(result.acked, reference_count) << "raise reference_count";

        auto reopened = io::sync_wait(loop, open_catalog(dir.path(), child_checkpoint_every));
        ASSERT_TRUE(reopened.has_value()) << "run " << run << ": " << reopened.error().message;
        std::string state = (*reopened)->dump();
        bool exact = state == dumps[static_cast<size_t>(result.acked)];
        bool with_in_flight = state == dumps[static_cast<size_t>(result.acked) + 1];
        ASSERT_TRUE(exact || with_in_flight)
            << "run " << run << " (target " << target << ", pause " << pause_us << "us): acknowledged "
            << result.acked << " changes, but the restarted catalog is\n"
            << state << "\nwhich is neither\n"
            << dumps[static_cast<size_t>(result.acked)];
        in_flight_landed += with_in_flight ? 1 : 0;
        io::sync_wait(loop, (*reopened)->close());
    }
    // Not asserted (timing decides), but useful when reading the log.
    std::printf("journal crash: %d of %d runs recovered the change in flight at the kill\n", in_flight_landed, runs);
#endif
}

}  // namespace
}  // namespace tv::testing
