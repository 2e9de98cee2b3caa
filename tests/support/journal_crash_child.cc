// SPDX-License-Identifier: Apache-2.0
// journal_crash_child DATA_DIR [CHECKPOINT_EVERY]: applies the crash stream to the catalog in
// DATA_DIR and prints "acked <n>" after each change is durable, until killed. The journal
// crash test SIGKILLs it at random points and checks what a restart finds.
#include "io/loop.hh"
#include "io/sync_wait.hh"
#include "support/journal_crash_ops.hh"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr int max_ops = 100000;

tv::io::task<int> run(std::string data_dir, uint64_t checkpoint_every) {
    tv::storage::catalog_options options;
    options.checkpoint_every = checkpoint_every;
    auto cat = co_await tv::storage::catalog::open(data_dir, options);
    if (!cat) {
        std::fprintf(stderr, "open: %s\n", cat.error().message.c_str());
        co_return 2;
    }
    for (int i = 0; i < max_ops; ++i) {
        auto done = co_await tv::testing::crash_stream_op(**cat, i);
        if (!done) {
            std::fprintf(stderr, "change %d: %s\n", i, done.error().message.c_str());
            co_return 3;
        }
        // One write(2) per line, unbuffered: the parent must see every acknowledgement that
        // was made before the kill.
        std::string line = "acked " + std::to_string(i + 1) + "\n";
        if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            co_return 4;
        }
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DATA_DIR [CHECKPOINT_EVERY]\n", argv[0]);
        return 1;
    }
    uint64_t every = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10000;
    tv::io::loop loop;
    return tv::io::sync_wait(loop, run(argv[1], every));
}
