// SPDX-License-Identifier: Apache-2.0
// The fixture of the transfer engine tests that run on real files and a local repository
// directory: a temporary tree (src/ for inputs, repo/ for the store), two loops, a pool of
// 1 MiB buffers (so part boundaries are cheap to reach) and one throttle per direction.
#pragma once

#include "io/sync_wait.hh"
#include "pipeline/transfer.hh"
#include "remote/local_store.hh"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>

namespace tv::pipeline {

inline constexpr size_t part_size = 1 << 20;

class transfer_test : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/tv-transfer-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        _dir = pattern;
        std::filesystem::create_directories(_dir + "/src");
        std::filesystem::create_directories(_dir + "/repo");
    }
    void TearDown() override { std::filesystem::remove_all(_dir); }

    /// src/`name`: `size` pseudo-random bytes from `seed`; yields its path.
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

    static hash128 hash_of(const std::string& bytes) {
        return xxh3_128(std::as_bytes(std::span(bytes.data(), bytes.size())));
    }

    /// `xxhsum -H2`'s hash of the file: the tool an operator checks a file with.
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

}  // namespace tv::pipeline
