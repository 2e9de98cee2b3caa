// SPDX-License-Identifier: Apache-2.0
// The metadata journal on a full filesystem (a small tmpfs mounted for the test; skipped where
// mounting is not permitted): an append that does not fit fails with the reason and takes
// nothing, the journal goes on once space is freed, and recovery finds exactly the records
// that were acknowledged.
#include "io/log.hh"
#include "storage/journal.hh"
#include "support/co_test.hh"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace tv::testing {
namespace {

class tmpfs_mount {
public:
    tmpfs_mount(const std::string& where, const char* options) : _where(where) {
        ::mkdir(where.c_str(), 0700);
        _mounted = ::mount("tmpfs", where.c_str(), "tmpfs", 0, options) == 0;
        _error = _mounted ? 0 : errno;
    }
    ~tmpfs_mount() {
        if (_mounted) {
            ::umount2(_where.c_str(), MNT_DETACH);
        }
    }
    bool mounted() const { return _mounted; }
    std::string error() const { return std::strerror(_error); }

private:
    std::string _where;
    bool _mounted = false;
    int _error = 0;
};

/// Writes into `path` until the filesystem has not one byte left.
void fill(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string chunk(4096, 'f');
    for (size_t size : {size_t{4096}, size_t{1}}) {
        while (::write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
        }
    }
    ::close(fd);
}

}  // namespace

CO_TEST(journal_full_disk, a_refused_append_fails_alone_and_the_journal_goes_on_once_space_is_freed) {
    temp_dir dir;
    tmpfs_mount fs(dir.file("fs"), "size=256k");
    if (!fs.mounted()) {
        CO_SKIP("cannot mount a tmpfs here (" + fs.error() + "): needs root or CAP_SYS_ADMIN");
    }
    const std::string meta = dir.file("fs") + "/meta";
    auto opened = co_await storage::journal::open(meta);
    CO_ASSERT_OK(opened);
    storage::journal& j = *opened->log;
    fill(dir.file("fs") + "/filler");

    // Records fit in the slack of the journal file's last page for a while; then one does not.
    std::vector<std::string> acknowledged;
    std::string refusal;
    for (int n = 0; n < 1000 && refusal.empty(); ++n) {
        std::string payload = "record " + std::to_string(n) + " " + std::string(700, 'x');
        auto appended = co_await j.append(payload);
        if (appended) {
            acknowledged.push_back(payload);
        } else {
            refusal = appended.error().message;
        }
    }
    EXPECT_NE(refusal.find("No space left on device"), std::string::npos) << refusal;
    EXPECT_FALSE(j.failed()) << "a write refused for want of space does not stop the journal";
    auto again = co_await j.append("refused as well");
    EXPECT_FALSE(again.has_value());

    ::unlink((dir.file("fs") + "/filler").c_str());
    for (int n = 0; n < 3; ++n) {
        std::string payload = "after " + std::to_string(n);
        auto appended = co_await j.append(payload);
        CO_ASSERT_OK(appended);
        EXPECT_EQ(*appended, acknowledged.size() + 1) << "sequences go on without a gap";
        acknowledged.push_back(payload);
    }
    co_await j.close();

    auto reopened = co_await storage::journal::open(meta);
    CO_ASSERT_OK(reopened);
    std::vector<std::string> recovered;
    for (const auto& r : reopened->recovered.records) {
        recovered.push_back(r.payload);
    }
    EXPECT_EQ(recovered, acknowledged) << "exactly the acknowledged records, none of the refused ones";
    co_await reopened->log->close();
}

}  // namespace tv::testing
