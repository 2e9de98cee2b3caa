// SPDX-License-Identifier: Apache-2.0
// sync_filesystem: syncfs(2) on a thread (see blocking.hh).
#include "io/blocking.hh"

#include <cerrno>
#include <system_error>

#include <unistd.h>

namespace tv::io {

task<result<void>> sync_filesystem(int fd) {
    int failed = co_await run_blocking([fd] { return ::syncfs(fd) == 0 ? 0 : errno; });
    if (failed != 0) {
        co_return std::error_code(failed, std::generic_category());
    }
    co_return result<void>{};
}

}  // namespace tv::io
