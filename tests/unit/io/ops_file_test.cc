// SPDX-License-Identifier: Apache-2.0
// File operations through the ring: open, read, write, fsync, statx, rename, unlink, mkdir,
// hard links, writeback started without waiting, small files and multi-GiB sparse files with
// 64-bit offsets.
#include "io/file.hh"
#include "io/ops.hh"
#include "support/co_test.hh"
#include "support/page_cache.hh"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace io = tv::io;
using tv::testing::page_cache_of;
using tv::testing::temp_dir;

namespace {

std::vector<std::byte> pattern(size_t size, uint8_t seed) {
    std::vector<std::byte> data(size);
    for (size_t i = 0; i < size; ++i) {
        data[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
    }
    return data;
}

}  // namespace

CO_TEST(file_ops, small_file_round_trip) {
    temp_dir dir;
    auto f = co_await io::open_file(dir.file("small"), O_CREAT | O_RDWR | O_TRUNC);
    CO_ASSERT_OK(f);
    auto data = pattern(1000, 7);
    CO_ASSERT_OK(co_await io::write_fully(f->fd(), data, 0));
    CO_ASSERT_OK(co_await io::fsync(f->fd()));
    CO_ASSERT_OK(co_await io::fdatasync(f->fd()));

    std::vector<std::byte> back(4096);
    auto n = co_await io::read_fully(f->fd(), back, 0);
    CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 1000u) << "a read past the end returns what exists";
    back.resize(*n);
    EXPECT_EQ(back, data);

    auto st = co_await io::statx(AT_FDCWD, dir.file("small"));
    CO_ASSERT_OK(st);
    EXPECT_EQ(st->stx_size, 1000u);
    CO_ASSERT_OK(co_await f->close());
    EXPECT_FALSE(f->is_open());
}

CO_TEST(file_ops, missing_file_is_an_error_code_not_a_negative_int) {
    temp_dir dir;
    auto f = co_await io::open_file(dir.file("absent"), O_RDONLY);
    CO_ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error(), std::errc::no_such_file_or_directory);
    auto st = co_await io::statx(AT_FDCWD, dir.file("absent"));
    CO_ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error(), std::errc::no_such_file_or_directory);
}

CO_TEST(file_ops, sparse_multi_gib_file_with_offsets_past_4_gib) {
    temp_dir dir;
    auto f = co_await io::open_file(dir.file("sparse"), O_CREAT | O_RDWR | O_TRUNC);
    CO_ASSERT_OK(f);
    constexpr uint64_t gib = uint64_t{1} << 30;
    CO_ASSERT_EQ(::ftruncate(f->fd(), static_cast<off_t>(6 * gib)), 0);

    // Blocks around the 32-bit boundaries prove offsets are 64-bit end to end.
    const std::array<uint64_t, 4> offsets = {0, 2 * gib - 512, 4 * gib + 4096, 6 * gib - 65536};
    for (size_t i = 0; i < offsets.size(); ++i) {
        auto block = pattern(65536, static_cast<uint8_t>(i + 1));
        CO_ASSERT_OK(co_await io::write_fully(f->fd(), block, offsets[i]));
    }
    for (size_t i = 0; i < offsets.size(); ++i) {
        std::vector<std::byte> back(65536);
        auto n = co_await io::read_fully(f->fd(), back, offsets[i]);
        CO_ASSERT_OK(n);
        CO_ASSERT_EQ(*n, 65536u);
        EXPECT_EQ(back, pattern(65536, static_cast<uint8_t>(i + 1))) << "block at offset " << offsets[i];
    }
    std::vector<std::byte> hole(8192, std::byte{0xff});
    auto n = co_await io::read_fully(f->fd(), hole, 5 * gib);
    CO_ASSERT_OK(n);
    EXPECT_EQ(hole, std::vector<std::byte>(8192, std::byte{0})) << "a hole reads as zeros";
    auto st = co_await io::statx(AT_FDCWD, dir.file("sparse"));
    CO_ASSERT_OK(st);
    EXPECT_EQ(st->stx_size, 6 * gib);
    EXPECT_LT(st->stx_blocks * 512, 64u << 20) << "the file must stay sparse";
}

CO_TEST(file_ops, mkdir_rename_link_unlink) {
    temp_dir dir;
    CO_ASSERT_OK(co_await io::mkdirat(AT_FDCWD, dir.file("sub")));
    auto again = co_await io::mkdirat(AT_FDCWD, dir.file("sub"));
    EXPECT_EQ(again.error(), std::errc::file_exists);

    auto f = co_await io::open_file(dir.file("sub/tmp.dat"), O_CREAT | O_WRONLY | O_TRUNC);
    CO_ASSERT_OK(f);
    auto data = pattern(4096, 3);
    CO_ASSERT_OK(co_await io::write_fully(f->fd(), data, 0));
    CO_ASSERT_OK(co_await f->close());

    // Publish by rename, then pin by hard link the way snapshots do.
    CO_ASSERT_OK(co_await io::renameat(AT_FDCWD, dir.file("sub/tmp.dat"), AT_FDCWD, dir.file("sub/seg.dat")));
    CO_ASSERT_OK(co_await io::linkat(AT_FDCWD, dir.file("sub/seg.dat"), AT_FDCWD, dir.file("snap.dat")));
    auto st = co_await io::statx(AT_FDCWD, dir.file("snap.dat"));
    CO_ASSERT_OK(st);
    EXPECT_EQ(st->stx_nlink, 2u);
    EXPECT_EQ(st->stx_size, 4096u);

    CO_ASSERT_OK(co_await io::unlinkat(AT_FDCWD, dir.file("sub/seg.dat")));
    auto gone = co_await io::statx(AT_FDCWD, dir.file("sub/seg.dat"));
    EXPECT_EQ(gone.error(), std::errc::no_such_file_or_directory);
    auto pinned = co_await io::open_file(dir.file("snap.dat"), O_RDONLY);
    CO_ASSERT_OK(pinned);
    std::vector<std::byte> back(4096);
    auto n = co_await io::read_fully(pinned->fd(), back, 0);
    CO_ASSERT_OK(n);
    EXPECT_EQ(back, data) << "the hard link keeps the bytes after the original is removed";
    CO_ASSERT_OK(co_await io::unlinkat(AT_FDCWD, dir.file("sub"), AT_REMOVEDIR));
}

CO_TEST(file_ops, start_writeback_sends_dirty_pages_to_the_device_without_waiting_for_them) {
    temp_dir dir;
    auto f = co_await io::open_file(dir.file("pieces"), O_CREAT | O_RDWR | O_TRUNC);
    CO_ASSERT_OK(f);
    auto data = pattern(1 << 20, 5);
    CO_ASSERT_OK(co_await io::write_fully(f->fd(), data, 0));
    auto before = page_cache_of(f->fd());
    if (!before) {
        CO_SKIP("cachestat(2) is missing (Linux before 6.5): " << std::strerror(errno));
    }
    if (before->dirty == 0) {
        CO_SKIP("the file system of " << dir.path() << " keeps no dirty pages (tmpfs?)");
    }

    CO_ASSERT_OK(co_await io::start_writeback(f->fd(), 0, static_cast<uint32_t>(data.size())));
    // Started, not waited for: the pages leave the dirty state as the device takes them.
    auto after = page_cache_of(f->fd());
    for (int i = 0; i < 500 && after && after->dirty > 0; ++i) {
        (void)co_await io::sleep(std::chrono::milliseconds(10));
        after = page_cache_of(f->fd());
    }
    CO_ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->dirty, 0u) << "of " << before->dirty << " dirty pages";
    EXPECT_GT(after->cached, 0u) << "written back, still cached";

    std::vector<std::byte> back(data.size());
    auto n = co_await io::read_fully(f->fd(), back, 0);
    CO_ASSERT_OK(n);
    EXPECT_EQ(back, data);
}

CO_TEST(file_ops, start_writeback_of_a_pipe_is_an_error) {
    std::array<int, 2> ends{};
    CO_ASSERT_EQ(::pipe(ends.data()), 0);
    auto started = co_await io::start_writeback(ends[1], 0, 4096);
    ::close(ends[0]);
    ::close(ends[1]);
    CO_ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error(), std::errc::invalid_seek);
}
