// SPDX-License-Identifier: Apache-2.0
// The transfer engine against real files and a local repository directory: hashes equal
// `xxhsum -H2`, part boundaries (k * part size, +-1 byte, empty files), round trips byte for
// byte, a tampered object fails its download with both hashes and leaves no file, a hash that
// does not match fails an upload, the buffer pool's limit holds with 64 large files in flight,
// and a stop cancels promptly.
#include "pipeline/transfer.hh"

#include "io/sync_wait.hh"
#include "remote/local_store.hh"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

namespace tv::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr size_t part_size = 1 << 20;  // small parts so boundaries are cheap to test

class transfer_test : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/tv-transfer-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        _dir = pattern;
        fs::create_directories(_dir + "/src");
        fs::create_directories(_dir + "/repo");
    }
    void TearDown() override { fs::remove_all(_dir); }

    std::string write_file(const std::string& name, size_t size, uint64_t seed) {
        std::string path = _dir + "/src/" + name;
        std::string bytes(size, '\0');
        std::mt19937_64 random(seed);
        for (auto& c : bytes) {
            c = static_cast<char>(random());
        }
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return path;
    }

    static std::string read_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    static std::string xxhsum(const std::string& path) {
        std::string out;
        FILE* pipe = ::popen(("xxhsum -H2 '" + path + "' 2>/dev/null").c_str(), "r");
        char buf[256];
        while (pipe != nullptr && std::fgets(buf, sizeof(buf), pipe) != nullptr) {
            out += buf;
        }
        if (pipe != nullptr) {
            ::pclose(pipe);
        }
        return out.substr(0, out.find(' '));
    }

    store_opener local_repo() {
        std::string root = _dir + "/repo";
        return [root]() -> remote::remote_result<std::unique_ptr<remote::object_store>> {
            return std::unique_ptr<remote::object_store>(std::make_unique<remote::local_store>(root));
        };
    }

    transfer_report run(std::vector<transfer_entry> entries, transfer_options options, std::stop_token stop = {},
                        transfer_progress* progress = nullptr) {
        auto t = _engine.run(std::move(entries), options, local_repo(), stop, progress);
        return io::sync_wait(_loops.main_loop(), std::move(t));
    }

    std::string _dir;
    io::loop_group _loops{2};
    io::buffer_pool _pool{part_size, 16};
    throttle _up;
    throttle _down;
    transfer_engine _engine{_loops, _pool, _up, _down};
};

TEST_F(transfer_test, uploads_and_downloads_every_boundary_with_xxhsum_hashes) {
    if (::system("command -v xxhsum > /dev/null") != 0) {
        GTEST_SKIP() << "xxhsum (Debian package xxhash) is not installed";
    }
    std::vector<size_t> sizes = {0, 1, 4095, 4096, 4097, part_size - 1, part_size, part_size + 1,
                                 3 * part_size, 3 * part_size + 1, 3 * part_size - 1};
    std::vector<transfer_entry> up;
    for (size_t i = 0; i < sizes.size(); ++i) {
        std::string name = "f" + std::to_string(i);
        up.push_back(transfer_entry{write_file(name, sizes[i], i), "data/" + name, sizes[i], {}, {}});
    }
    transfer_options options;
    options.multipart_threshold = part_size;  // parts from 1 MiB up
    auto report = run(up, options);
    ASSERT_EQ(report.failed, 0u) << report.entries[0].error;
    const auto& uploaded = _engine.progress(direction::upload);
    EXPECT_GT(uploaded.current_rate(), 0.0) << "bytes moved in the last five seconds";
    EXPECT_EQ(uploaded.bytes_done.load(), report.bytes) << "the engine counts per direction";
    EXPECT_EQ(uploaded.files_done.load(), sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
        const auto& r = report.entries[i];
        SCOPED_TRACE("size " + std::to_string(sizes[i]));
        EXPECT_TRUE(r.ok) << r.error;
        EXPECT_EQ(r.hash.hex(), xxhsum(up[i].local_path));
        EXPECT_EQ(read_file(_dir + "/repo/" + up[i].key), read_file(up[i].local_path));
        size_t parts = sizes[i] >= part_size ? (sizes[i] + part_size - 1) / part_size : 1;
        ASSERT_EQ(r.part_hashes.size(), parts);
        std::string bytes = read_file(up[i].local_path);
        for (size_t p = 0; p < parts; ++p) {
            std::string piece = bytes.substr(p * part_size, part_size);
            EXPECT_EQ(r.part_hashes[p], xxh3_128(std::as_bytes(std::span(piece.data(), piece.size()))));
        }
    }
    EXPECT_EQ(report.bytes, std::accumulate(sizes.begin(), sizes.end(), size_t{0}));

    std::vector<transfer_entry> down;
    for (size_t i = 0; i < sizes.size(); ++i) {
        down.push_back(transfer_entry{_dir + "/back/f" + std::to_string(i), up[i].key, sizes[i],
                                      report.entries[i].hash, {}});
    }
    options.way = direction::download;
    auto back = run(down, options);
    ASSERT_EQ(back.failed, 0u) << back.entries[0].error;
    for (size_t i = 0; i < sizes.size(); ++i) {
        EXPECT_EQ(read_file(down[i].local_path), read_file(up[i].local_path)) << "size " << sizes[i];
        EXPECT_EQ(back.entries[i].hash, report.entries[i].hash);
    }
    for (const auto& entry : fs::recursive_directory_iterator(_dir)) {
        EXPECT_EQ(entry.path().string().find(".tvtmp-"), std::string::npos) << entry.path();
    }
}

TEST_F(transfer_test, a_tampered_object_fails_its_download_with_both_hashes_and_leaves_nothing) {
    std::string src = write_file("t", 2 * part_size + 17, 7);
    auto up = run({transfer_entry{src, "t", 2 * part_size + 17, {}, {}}}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    {
        std::fstream f(_dir + "/repo/t", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(part_size + 5);
        f.put('\x5a');
    }
    transfer_options options;
    options.way = direction::download;
    std::string target = _dir + "/back/t";
    auto down = run({transfer_entry{target, "t", 2 * part_size + 17, up.entries[0].hash, {}}}, options);
    ASSERT_EQ(down.failed, 1u);
    const auto& e = down.entries[0];
    EXPECT_FALSE(e.ok);
    EXPECT_NE(e.error.find("t does not match its recorded hash: expected xxh3-128 " + up.entries[0].hash.hex() +
                           ", got " + e.hash.hex()),
              std::string::npos)
        << e.error;
    EXPECT_NE(e.hash, up.entries[0].hash);
    EXPECT_FALSE(fs::exists(target));
    EXPECT_TRUE(!fs::exists(_dir + "/back") || fs::is_empty(_dir + "/back"));
}

TEST_F(transfer_test, an_upload_whose_file_changed_fails_and_stores_nothing) {
    std::string src = write_file("c", 3 * part_size, 9);
    hash128 recorded = xxh3_128({});  // what a snapshot recorded: not this file's hash
    transfer_options options;
    options.multipart_threshold = part_size;
    auto r = run({transfer_entry{src, "c", 3 * part_size, recorded, {}}}, options);
    ASSERT_EQ(r.failed, 1u);
    EXPECT_NE(r.entries[0].error.find("does not match its recorded hash"), std::string::npos) << r.entries[0].error;
    EXPECT_FALSE(fs::exists(_dir + "/repo/c"));
    // A file shorter than its recorded size fails too, naming both sizes.
    auto short_read = run({transfer_entry{src, "c", 3 * part_size + 10, {}, {}}}, options);
    ASSERT_EQ(short_read.failed, 1u);
    EXPECT_NE(short_read.entries[0].error.find("is shorter than its recorded size 3145738"), std::string::npos)
        << short_read.entries[0].error;
    EXPECT_FALSE(fs::exists(_dir + "/repo/c"));
}

TEST_F(transfer_test, sixty_four_large_files_stay_within_the_buffer_pool) {
    // 64 files of 3 MiB with 64 workers and 4 parts each would want 768 MiB in flight; the
    // pool has 16 MiB. Sample how many buffers are out while the transfer runs.
    std::vector<transfer_entry> entries;
    for (int i = 0; i < 64; ++i) {
        std::string name = "big" + std::to_string(i);
        entries.push_back(transfer_entry{write_file(name, 3 * part_size + 123, 100 + i), "big/" + name,
                                         3 * part_size + 123, {}, {}});
    }
    std::atomic<bool> running{true};
    size_t least_available = _pool.capacity();
    std::thread sampler([&] {
        while (running) {
            least_available = std::min(least_available, _pool.available());
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    transfer_options options;
    options.workers = 64;
    options.parts_per_file = 4;
    options.multipart_threshold = part_size;
    auto report = run(entries, options);
    running = false;
    sampler.join();
    EXPECT_EQ(report.failed, 0u);
    EXPECT_EQ(least_available, 0u) << "the pool was the limit: every buffer was in use at some point";
    EXPECT_EQ(_pool.available(), _pool.capacity()) << "every buffer came back";
    for (const auto& e : entries) {
        EXPECT_EQ(fs::file_size(_dir + "/repo/" + e.key), e.size);
    }
}

TEST_F(transfer_test, a_stop_cancels_the_transfer_and_leaves_no_partial_objects) {
    std::vector<transfer_entry> entries;
    for (int i = 0; i < 8; ++i) {
        std::string name = "s" + std::to_string(i);
        entries.push_back(transfer_entry{write_file(name, 4 * part_size, 300 + i), "s/" + name, 4 * part_size, {}, {}});
    }
    _up.set_rate(2 * part_size);  // 32 MiB at 2 MiB/s: 16 s unless stopped
    std::stop_source stop;
    transfer_progress progress;
    std::chrono::steady_clock::time_point stopped_at;
    std::thread stopper([&] {
        while (progress.bytes_done.load() < part_size) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        stopped_at = std::chrono::steady_clock::now();
        stop.request_stop();
    });
    transfer_options options;
    options.multipart_threshold = part_size;
    auto report = run(entries, options, stop.get_token(), &progress);
    stopper.join();
    double after_stop = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
    EXPECT_TRUE(report.cancelled);
    EXPECT_GT(report.failed, 0u);
    EXPECT_LT(after_stop, 2.0) << "a stop ends the transfer within about a second (throttle waits are cut short)";
    for (const auto& e : report.entries) {
        if (!e.ok) {
            EXPECT_EQ(e.error, "cancelled");
        }
    }
    for (const auto& entry : fs::recursive_directory_iterator(_dir + "/repo")) {
        EXPECT_EQ(entry.path().string().find(".tvtmp-"), std::string::npos) << entry.path();
    }
    EXPECT_EQ(_pool.available(), _pool.capacity());
}

TEST_F(transfer_test, a_new_limit_reaches_a_running_transfer_within_a_second) {
    std::vector<transfer_entry> entries;
    for (int i = 0; i < 4; ++i) {
        std::string name = "l" + std::to_string(i);
        entries.push_back(transfer_entry{write_file(name, 4 * part_size, 500 + i), "l/" + name, 4 * part_size, {}, {}});
    }
    _up.set_rate(part_size);  // 16 MiB at 1 MiB/s: 16 s
    transfer_progress progress;
    std::thread raiser([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        _up.set_rate(0);  // as ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "0") does
    });
    transfer_options options;
    options.multipart_threshold = part_size;
    auto started = std::chrono::steady_clock::now();
    auto report = run(entries, options, {}, &progress);
    raiser.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(report.failed, 0u);
    // Whatever was reserved under the old rate (at most a part per lane) drains, then the rest
    // goes unpaced: far less than the 16 s the old limit needed.
    EXPECT_LT(seconds, 8.0);
    EXPECT_EQ(progress.bytes_done.load(), 16 * part_size);
}

}  // namespace
}  // namespace tv::pipeline
