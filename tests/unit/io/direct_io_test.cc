// SPDX-License-Identifier: Apache-2.0
// O_DIRECT: the kernel's alignment rules, whole-file reads with an unaligned tail, and the
// fallback to the page cache on a filesystem that refuses O_DIRECT (ramfs, mounted here).
#include "io/buffer_pool.hh"
#include "io/file.hh"
#include "io/ops.hh"
#include "support/co_test.hh"

#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace io = tv::io;
using tv::testing::temp_dir;

namespace {

std::vector<std::byte> pattern(size_t size) {
    std::vector<std::byte> data(size);
    for (size_t i = 0; i < size; ++i) {
        data[i] = static_cast<std::byte>((i * 131 + i / 4096) & 0xff);
    }
    return data;
}

io::task<void> write_plain(const std::string& path, const std::vector<std::byte>& data) {
    auto f = co_await io::open_file(path, O_CREAT | O_WRONLY | O_TRUNC);
    CO_ASSERT_OK(f);
    CO_ASSERT_OK(co_await io::write_fully(f->fd(), data, 0));
    CO_ASSERT_OK(co_await io::fsync(f->fd()));
}

/// A ramfs mount for the test's lifetime; ramfs has no O_DIRECT support at all.
class ramfs_mount {
public:
    explicit ramfs_mount(const std::string& where) : _where(where) {
        _mounted = ::mount("ramfs", where.c_str(), "ramfs", 0, nullptr) == 0;
        _error = _mounted ? 0 : errno;
    }
    ~ramfs_mount() {
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

}  // namespace

CO_TEST(direct_io, alignment_rules_and_unaligned_tail) {
    temp_dir dir;
    std::string path = dir.file("seg.dat");
    const auto data = pattern(3 * 4096 + 100);  // the tail is not a multiple of the block
    co_await write_plain(path, data);

    auto f = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::required);
    if (!f && f.error() == std::errc::invalid_argument) {
        CO_SKIP("the filesystem under TMPDIR does not support O_DIRECT");
    }
    CO_ASSERT_OK(f);
    EXPECT_TRUE(f->direct());

    io::buffer_pool pool(64 * 1024, 2);
    auto buffer = pool.try_acquire();
    CO_ASSERT_TRUE(buffer.has_value());
    auto span = buffer->span();

    // Misaligned memory, length or offset: the kernel says EINVAL, and so do we.
    auto bad_memory = co_await io::read(f->fd(), span.subspan(1, 4096), 0);
    EXPECT_EQ(bad_memory.error(), std::errc::invalid_argument);
    EXPECT_FALSE(io::direct_aligned(span.subspan(1, 4096), 0));
    auto bad_offset = co_await io::read(f->fd(), span.subspan(0, 4096), 100);
    EXPECT_EQ(bad_offset.error(), std::errc::invalid_argument);
    EXPECT_FALSE(io::direct_aligned(span.subspan(0, 4096), 100));
    EXPECT_TRUE(io::direct_aligned(span.subspan(0, 8192), 4096));

    // Aligned request larger than the file: the kernel hands back the unaligned tail.
    auto n = co_await io::read_fully(*f, span, 0);
    CO_ASSERT_OK(n);
    CO_ASSERT_EQ(*n, data.size());
    EXPECT_EQ(std::memcmp(span.data(), data.data(), data.size()), 0);

    auto tail = co_await io::read_fully(*f, span.subspan(0, 8192), 2 * 4096);
    CO_ASSERT_OK(tail);
    EXPECT_EQ(*tail, 4096u + 100u);
    EXPECT_EQ(std::memcmp(span.data(), data.data() + 2 * 4096, *tail), 0);
}

CO_TEST(direct_io, falls_back_to_page_cache_where_refused) {
    temp_dir dir;
    ramfs_mount ramfs(dir.path());
    if (!ramfs.mounted()) {
        CO_SKIP("cannot mount ramfs to get a filesystem without O_DIRECT: " << ramfs.error()
                << " (needs root or CAP_SYS_ADMIN)");
    }
    std::string path = dir.file("seg.dat");
    const auto data = pattern(10000);
    co_await write_plain(path, data);

    auto required = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::required);
    CO_ASSERT_FALSE(required.has_value());
    EXPECT_EQ(required.error(), std::errc::invalid_argument) << "ramfs must refuse O_DIRECT";

    auto preferred = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::preferred);
    CO_ASSERT_OK(preferred);
    EXPECT_FALSE(preferred->direct()) << "the fallback must say it is buffered";
    std::vector<std::byte> back(16384);
    auto n = co_await io::read_fully(*preferred, back, 0);
    CO_ASSERT_OK(n);
    CO_ASSERT_EQ(*n, data.size());
    back.resize(*n);
    EXPECT_EQ(back, data);
    CO_ASSERT_OK(co_await preferred->close());
}
