// SPDX-License-Identifier: Apache-2.0
// durable_file: nothing is visible before commit, commit publishes atomically, no_replace never
// overwrites, abandon and failures leave no temporary file, and the start-up sweep removes what
// a crash left.
#include "io/durable_file.hh"
#include "io/ops.hh"
#include "support/co_test.hh"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

namespace io = tv::io;
namespace fs = std::filesystem;
using tv::testing::temp_dir;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

size_t temp_files_in(const std::string& dir) {
    size_t n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        n += io::is_temp_name(entry.path().native()) ? 1 : 0;
    }
    return n;
}

}  // namespace

TEST(durable_file_names, temp_names_are_unique_and_recognised) {
    std::string a = io::temp_path_for("/d/seg.dat");
    std::string b = io::temp_path_for("/d/seg.dat");
    EXPECT_NE(a, b);
    EXPECT_TRUE(a.starts_with("/d/seg.dat.tvtmp-")) << a;
    EXPECT_TRUE(io::is_temp_name(a));
    EXPECT_FALSE(io::is_temp_name("/d/seg.dat"));
    EXPECT_FALSE(io::is_temp_name("/x.tvtmp-1/seg.dat")) << "only the last component counts";
    EXPECT_EQ(io::parent_directory("/d/e/f"), "/d/e");
    EXPECT_EQ(io::parent_directory("/f"), "/");
    EXPECT_EQ(io::parent_directory("f"), ".");
}

CO_TEST(durable_file, invisible_until_commit_then_published) {
    temp_dir dir;
    std::string path = dir.file("image.7");
    auto f = co_await io::durable_file::create(path);
    CO_ASSERT_OK(f);
    CO_ASSERT_OK(co_await f->write(bytes_of("hello "), 0));
    CO_ASSERT_OK(co_await f->write(bytes_of("world"), 6));
    EXPECT_FALSE(fs::exists(path)) << "a reader never sees a half-written file";
    EXPECT_EQ(temp_files_in(dir.path()), 1u);
    CO_ASSERT_OK(co_await f->commit());
    EXPECT_EQ(slurp(path), "hello world");
    EXPECT_EQ(temp_files_in(dir.path()), 0u);
}

CO_TEST(durable_file, no_replace_refuses_an_existing_file_and_keeps_it) {
    temp_dir dir;
    std::string path = dir.file("segment");
    CO_ASSERT_OK(co_await io::write_file_durably(path, bytes_of("first")));
    auto again = co_await io::write_file_durably(path, bytes_of("second"));
    CO_ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error(), std::errc::file_exists);
    EXPECT_EQ(slurp(path), "first");
    EXPECT_EQ(temp_files_in(dir.path()), 0u) << "the refused temporary file is removed";
}

CO_TEST(durable_file, replace_swaps_the_whole_file) {
    temp_dir dir;
    std::string path = dir.file("state.json");
    CO_ASSERT_OK(co_await io::write_file_durably(path, bytes_of("old contents, longer")));
    CO_ASSERT_OK(co_await io::write_file_durably(path, bytes_of("new"), io::replace_mode::replace));
    EXPECT_EQ(slurp(path), "new");
}

CO_TEST(durable_file, abandon_and_destructor_leave_nothing) {
    temp_dir dir;
    {
        auto f = co_await io::durable_file::create(dir.file("a"));
        CO_ASSERT_OK(f);
        CO_ASSERT_OK(co_await f->write(bytes_of("x"), 0));
        co_await f->abandon();
        co_await f->abandon();  // twice is harmless
    }
    {
        auto f = co_await io::durable_file::create(dir.file("b"));
        CO_ASSERT_OK(f);
        // dropped without commit or abandon: an error path that forgot
    }
    EXPECT_FALSE(fs::exists(dir.file("a")));
    EXPECT_FALSE(fs::exists(dir.file("b")));
    EXPECT_EQ(temp_files_in(dir.path()), 0u);
}

CO_TEST(durable_file, missing_directory_is_an_error) {
    temp_dir dir;
    auto f = co_await io::durable_file::create(dir.file("no/such/dir/file"));
    CO_ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error(), std::errc::no_such_file_or_directory);
}

CO_TEST(durable_file, make_directories_creates_every_level) {
    temp_dir dir;
    std::string deep = dir.file("a/b/c");
    CO_ASSERT_OK(co_await io::make_directories(deep));
    EXPECT_TRUE(fs::is_directory(deep));
    CO_ASSERT_OK(co_await io::make_directories(deep));  // existing directories are fine
    CO_ASSERT_OK(co_await io::write_file_durably(deep + "/f", bytes_of("1")));
    std::ofstream(dir.file("plain")) << "x";
    auto under_file = co_await io::make_directories(dir.file("plain/sub"));
    CO_ASSERT_FALSE(under_file.has_value());
}

CO_TEST(durable_file, set_size_trims_a_padded_tail) {
    temp_dir dir;
    auto f = co_await io::durable_file::create(dir.file("padded"));
    CO_ASSERT_OK(f);
    CO_ASSERT_OK(co_await f->write(bytes_of("0123456789"), 0));
    CO_ASSERT_OK(f->set_size(4));
    CO_ASSERT_OK(co_await f->commit());
    EXPECT_EQ(slurp(dir.file("padded")), "0123");
}

CO_TEST(durable_file, rename_durably_honours_the_mode) {
    temp_dir dir;
    std::ofstream(dir.file("a")) << "A";
    std::ofstream(dir.file("b")) << "B";
    auto refused = co_await io::rename_durably(dir.file("a"), dir.file("b"), io::replace_mode::no_replace);
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), std::errc::file_exists);
    CO_ASSERT_OK(co_await io::rename_durably(dir.file("a"), dir.file("b"), io::replace_mode::replace));
    EXPECT_EQ(slurp(dir.file("b")), "A");
    EXPECT_FALSE(fs::exists(dir.file("a")));
}

TEST(durable_file_sweep, removes_only_temporary_names_at_any_depth) {
    temp_dir dir;
    fs::create_directories(dir.file("t/1"));
    std::ofstream(dir.file("keep.dat")) << "k";
    std::ofstream(dir.file("t/1/seg.dat")) << "k";
    std::ofstream(io::temp_path_for(dir.file("top"))) << "crashed";
    std::ofstream(io::temp_path_for(dir.file("t/1/seg2.dat"))) << "crashed";
    auto removed = io::sweep_temp_files(dir.path());
    ASSERT_TRUE(removed.has_value());
    EXPECT_EQ(*removed, 2u);
    EXPECT_TRUE(fs::exists(dir.file("keep.dat")));
    EXPECT_TRUE(fs::exists(dir.file("t/1/seg.dat")));
    EXPECT_EQ(temp_files_in(dir.path()), 0u);
    auto missing = io::sweep_temp_files(dir.file("absent"));
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(*missing, 0u);
}

TEST(durable_file_sweep, abandoned_removes_only_what_no_live_writer_owns) {
    temp_dir dir;
    fs::create_directories(dir.file("a/b"));
    // This host's name, as the temporary names carry it.
    std::string mine = io::temp_path_for(dir.file("probe"));
    std::string tag = mine.substr(mine.find(io::temp_marker) + io::temp_marker.size());
    std::string host = tag.substr(0, tag.rfind('.', tag.rfind('-')));
    pid_t dead = ::fork();
    if (dead == 0) {
        ::_exit(0);
    }
    ASSERT_GT(dead, 0);
    ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
    auto touch = [](const std::string& path, bool old) {
        std::ofstream(path) << "part of an object";
        if (old) {
            fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::hours(2));
        }
    };
    std::string dead_writer = dir.file("a/b/obj" + std::string(io::temp_marker) + host + "." + std::to_string(dead) + "-3");
    std::string this_process = dir.file("a/obj" + std::string(io::temp_marker) + host + "." + std::to_string(::getpid()) + "-4");
    std::string live_writer = dir.file("a/obj" + std::string(io::temp_marker) + host + ".1-5");
    std::string other_recent = dir.file("obj" + std::string(io::temp_marker) + "elsewhere.42-1");
    std::string other_old = dir.file("obj2" + std::string(io::temp_marker) + "elsewhere.42-2");
    std::string old_shape_old = dir.file("obj3" + std::string(io::temp_marker) + "7-1");
    std::string object = dir.file("a/b/obj");
    touch(dead_writer, false);
    touch(this_process, true);
    touch(live_writer, true);
    touch(other_recent, false);
    touch(other_old, true);
    touch(old_shape_old, true);
    touch(object, true);
    auto swept = io::sweep_abandoned_temp_files(dir.path(), std::chrono::hours(1));
    ASSERT_TRUE(swept) << swept.error().message();
    EXPECT_EQ(*swept, 3u);
    EXPECT_FALSE(fs::exists(dead_writer)) << "this host's dead process left it";
    EXPECT_TRUE(fs::exists(this_process)) << "a put of this process may be in flight";
    EXPECT_TRUE(fs::exists(live_writer)) << "pid 1 lives: its put may be in flight";
    EXPECT_TRUE(fs::exists(other_recent)) << "another host may be writing it";
    EXPECT_FALSE(fs::exists(other_old)) << "untouched for longer than the limit";
    EXPECT_FALSE(fs::exists(old_shape_old));
    EXPECT_TRUE(fs::exists(object)) << "objects are never touched";
}
