// SPDX-License-Identifier: Apache-2.0
// The transfer engine against the Ceph RADOS Gateway: multipart boundaries with S3's 5 MiB
// minimum part; through the fault proxy, a failed part or ranged GET retried by the store alone
// (finished parts not resent) and counted in the progress, a permanent error tried once; a stop
// aborting the open multipart upload, and a half-finished upload (a file's, a pack's) resumed
// from its parts.
#include "pipeline/transfer.hh"

#include "io/sync_wait.hh"
#include "remote/s3_client.hh"
#include "unit/remote/s3_test_util.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace tv::pipeline {
namespace {

namespace fs = std::filesystem;
using testing::fault_kind;
using testing::fault_step;

constexpr size_t part_size = 5 << 20;  // S3's smallest part

class transfer_s3_test : public ::testing::Test {
protected:
    void SetUp() override {
        TV_REQUIRE_RGW();
        char pattern[] = "/tmp/tv-transfer-s3-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        _dir = pattern;
        _bucket = testing::unique_bucket("tv-transfer");
        auto created = io::sync_wait(_loops.main_loop(), make_bucket(_bucket));
        ASSERT_TRUE(created) << created.error().message;
    }
    void TearDown() override {
        if (!_dir.empty()) {
            fs::remove_all(_dir);
        }
    }

    static io::task<remote::s3_result<void>> make_bucket(std::string bucket) {
        auto client = testing::rgw_client(bucket);
        co_return co_await client.create_bucket();
    }

    std::string write_file(const std::string& name, size_t size, unsigned seed) {
        std::string path = _dir + "/" + name;
        std::string bytes = testing::pattern_bytes(size, seed);
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return path;
    }

    static std::string read_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    /// Opens the bucket under "t/" through `options` (the gateway, or a proxy in front of it).
    static store_opener opener(remote::s3_client_options options) {
        return [options]() -> remote::remote_result<std::unique_ptr<remote::object_store>> {
            return std::unique_ptr<remote::object_store>(
                std::make_unique<remote::s3_object_store>(options, testing::rgw_credentials(), "t/"));
        };
    }

    std::string _dir;
    std::string _bucket;
    io::loop_group _loops{2};
    io::buffer_pool _pool{part_size, 12};
    throttle _up;
    throttle _down;
    transfer_engine _engine{_loops, _pool, _up, _down};
};

TEST_F(transfer_s3_test, multipart_boundaries_round_trip_byte_for_byte) {
    std::vector<size_t> sizes = {0, 1, part_size - 1, part_size, part_size + 1, 3 * part_size, 3 * part_size + 1};
    std::vector<transfer_entry> up;
    for (size_t i = 0; i < sizes.size(); ++i) {
        std::string name = "m" + std::to_string(i);
        up.push_back(transfer_entry{write_file(name, sizes[i], static_cast<unsigned>(i)), "multi/" + name, sizes[i], {}, {}});
    }
    transfer_options options;
    options.multipart_threshold = part_size;
    auto open = opener(testing::rgw_options(_bucket));
    auto report = io::sync_wait(_loops.main_loop(), _engine.run(up, options, open));
    ASSERT_EQ(report.failed, 0u) << report.entries[0].error;
    for (size_t i = 0; i < sizes.size(); ++i) {
        size_t parts = sizes[i] >= part_size ? (sizes[i] + part_size - 1) / part_size : 0;
        EXPECT_EQ(report.entries[i].parts.size(), parts) << "size " << sizes[i];
    }

    std::vector<transfer_entry> down;
    for (size_t i = 0; i < sizes.size(); ++i) {
        down.push_back(transfer_entry{_dir + "/back/m" + std::to_string(i), up[i].key, sizes[i],
                                      report.entries[i].hash, {}});
    }
    options.way = direction::download;
    auto back = io::sync_wait(_loops.main_loop(), _engine.run(down, options, open));
    ASSERT_EQ(back.failed, 0u) << back.entries[0].error;
    for (size_t i = 0; i < sizes.size(); ++i) {
        EXPECT_EQ(read_file(down[i].local_path), read_file(up[i].local_path)) << "size " << sizes[i];
    }
}

/// Part numbers of the UploadPart requests a proxy saw, in order.
std::vector<int> part_numbers(const testing::fault_proxy& proxy) {
    std::vector<int> numbers;
    for (const auto& line : proxy.seen) {
        auto at = line.find("partNumber=");
        if (line.starts_with("PUT ") && at != std::string::npos) {
            numbers.push_back(std::stoi(line.substr(at + 11)));
        }
    }
    return numbers;
}

TEST_F(transfer_s3_test, a_failed_part_is_retried_alone_by_the_store_and_counted) {
    std::string path = write_file("f", 3 * part_size + 7, 5);
    std::string bytes = read_file(path);
    testing::rgw_fault_proxy proxy;
    ASSERT_TRUE(proxy.bound);
    // 1 CreateMultipartUpload, 2 part 1, 3 part 2 -> 503, then part 2 again, parts 3 and 4, complete.
    proxy.script = {fault_step::of(fault_kind::forward), fault_step::of(fault_kind::forward),
                    fault_step::error(503, "ServiceUnavailable")};
    transfer_options options;
    options.workers = 1;
    options.parts_per_file = 1;
    options.multipart_threshold = part_size;
    std::vector<transfer_entry> entries{transfer_entry{path, "r/f", bytes.size(), {}, {}}};
    transfer_progress progress;
    uint64_t engine_retries = _engine.progress(direction::upload).retries.load();
    auto run = _engine.run(entries, options, opener(proxy.options(_bucket)), {}, &progress);
    auto report = io::sync_wait(_loops.main_loop(), testing::through(&proxy, std::move(run)));
    EXPECT_EQ(report.failed, 0u) << report.entries[0].error;
    EXPECT_EQ(report.entries[0].attempts, 2);
    EXPECT_EQ(report.retries, 1u);
    EXPECT_EQ(progress.retries.load(), 1u);
    EXPECT_EQ(_engine.progress(direction::upload).retries.load() - engine_retries, 1u);
    EXPECT_EQ(part_numbers(proxy), (std::vector<int>{1, 2, 2, 3, 4})) << "only the failed part went twice";
    auto fetch = [](std::string bucket) -> io::task<remote::s3_result<std::string>> {
        auto client = testing::rgw_client(bucket);
        co_return co_await client.get_object("t/r/f");
    };
    auto got = io::sync_wait(_loops.main_loop(), fetch(_bucket));
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_TRUE(*got == bytes);
}

TEST_F(transfer_s3_test, a_permanent_error_is_tried_once) {
    std::string path = write_file("denied", 2 * part_size, 6);
    testing::rgw_fault_proxy proxy;
    ASSERT_TRUE(proxy.bound);
    // 1 CreateMultipartUpload, 2 part 1 -> 403; then the AbortMultipartUpload.
    proxy.script = {fault_step::of(fault_kind::forward), fault_step::error(403, "AccessDenied", "Access Denied")};
    transfer_options options;
    options.workers = 1;
    options.parts_per_file = 1;
    options.multipart_threshold = part_size;
    std::vector<transfer_entry> entries{transfer_entry{path, "denied", 2 * part_size, {}, {}}};
    transfer_progress progress;
    auto run = _engine.run(entries, options, opener(proxy.options(_bucket)), {}, &progress);
    auto report = io::sync_wait(_loops.main_loop(), testing::through(&proxy, std::move(run)));
    ASSERT_EQ(report.failed, 1u);
    EXPECT_EQ(report.entries[0].attempts, 1);
    EXPECT_EQ(report.retries, 0u);
    EXPECT_EQ(progress.retries.load(), 0u);
    EXPECT_EQ(part_numbers(proxy), (std::vector<int>{1})) << "the denied part was sent once, no later part at all";
    EXPECT_EQ(report.entries[0].error,
              fmt::format("upload {} to denied: UploadPart s3://{}/t/denied: AccessDenied (HTTP 403: Access Denied) "
                          "[request id proxy-2]",
                          path, _bucket));
    ASSERT_FALSE(proxy.seen.empty());
    EXPECT_TRUE(proxy.seen.back().starts_with("DELETE ")) << "the upload was aborted: " << proxy.seen.back();
}

TEST_F(transfer_s3_test, a_failed_ranged_get_is_retried_by_the_store_and_counted) {
    std::string path = write_file("d", 2 * part_size + 3, 8);
    std::string bytes = read_file(path);
    transfer_options options;
    options.multipart_threshold = part_size;
    auto up = io::sync_wait(_loops.main_loop(), _engine.run({transfer_entry{path, "d", bytes.size(), {}, {}}}, options,
                                                            opener(testing::rgw_options(_bucket))));
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;

    testing::rgw_fault_proxy proxy;
    ASSERT_TRUE(proxy.bound);
    proxy.script = {fault_step::of(fault_kind::reset)};  // the first ranged GET: reset before an answer
    options.way = direction::download;
    options.workers = 1;
    options.parts_per_file = 1;
    std::vector<transfer_entry> down{transfer_entry{_dir + "/back/d", "d", bytes.size(), up.entries[0].hash, {}}};
    transfer_progress progress;
    auto run = _engine.run(down, options, opener(proxy.options(_bucket)), {}, &progress);
    auto report = io::sync_wait(_loops.main_loop(), testing::through(&proxy, std::move(run)));
    ASSERT_EQ(report.failed, 0u) << report.entries[0].error;
    EXPECT_EQ(report.entries[0].attempts, 2);
    EXPECT_EQ(report.retries, 1u);
    EXPECT_EQ(progress.retries.load(), 1u);
    EXPECT_EQ(proxy.requests_seen, 4) << "three parts, the first twice";
    EXPECT_TRUE(read_file(down[0].local_path) == bytes);
}

/// Remembers upload ids and finished parts, and stops the transfer after `stop_after` parts.
struct recording_observer : transfer_observer {
    std::mutex mutex;
    std::string upload_id;
    std::vector<remote::uploaded_part> parts;
    std::stop_source* stop = nullptr;
    size_t stop_after = 0;

    void upload_begun(size_t, const std::string& id, uint64_t) override {
        std::lock_guard lock(mutex);
        upload_id = id;
    }
    void part_done(size_t, const remote::uploaded_part& part) override {
        std::lock_guard lock(mutex);
        parts.push_back(part);
        if (stop != nullptr && parts.size() >= stop_after) {
            stop->request_stop();
        }
    }
};

TEST_F(transfer_s3_test, a_stop_aborts_the_open_multipart_upload) {
    std::string path = write_file("c", 6 * part_size, 11);
    std::stop_source stop;
    recording_observer observer;
    observer.stop = &stop;
    observer.stop_after = 1;
    transfer_options options;
    options.workers = 1;
    options.parts_per_file = 1;
    options.multipart_threshold = part_size;
    auto open = opener(testing::rgw_options(_bucket));
    auto report = io::sync_wait(_loops.main_loop(),
                                _engine.run({transfer_entry{path, "c", 6 * part_size, {}, {}}}, options, open,
                                            stop.get_token(), nullptr, &observer));
    EXPECT_TRUE(report.cancelled);
    EXPECT_EQ(report.entries[0].error, "cancelled");
    ASSERT_FALSE(observer.upload_id.empty());
    auto check = [](std::string bucket, std::string upload_id) -> io::task<remote::s3_result<std::vector<remote::s3_part>>> {
        auto client = testing::rgw_client(bucket);
        co_return co_await client.list_parts("t/c", upload_id);
    };
    auto parts = io::sync_wait(_loops.main_loop(), check(_bucket, observer.upload_id));
    ASSERT_FALSE(parts.has_value()) << "the upload is still open";
    // Gone: AWS says NoSuchUpload, the gateway NoSuchKey; both 404.
    EXPECT_EQ(parts.error().http_status, 404) << parts.error().message;
}

class transfer_s3_resume_test : public transfer_s3_test {
protected:
    /// A first run stored parts 1 and 2 of `entry` (whose bytes are `bytes`) and then the server
    /// died: begin the upload and store those parts by hand, as that run would have. Then the
    /// engine resumes it: only parts 3 to 5 go, and the object is whole. When the journal says
    /// the first run cut its parts at another size (`cut_at`), none is reused: all five go.
    void resume_after_two_parts(transfer_entry entry, const std::string& bytes, entry_result* result,
                                uint64_t cut_at = part_size) {
        auto first_run = [](std::string bucket, std::string key, std::string data) -> io::task<std::string> {
            remote::s3_object_store store(testing::rgw_options(bucket), testing::rgw_credentials(), "t/");
            auto upload = co_await store.begin_upload(key);
            if (!upload) {
                co_return std::string();
            }
            for (int n = 1; n <= 2; ++n) {
                auto piece = std::as_bytes(std::span(data.data() + (n - 1) * part_size, part_size));
                auto stored = co_await (*upload)->write_part(n, (n - 1) * part_size, piece);
                if (!stored) {
                    co_return std::string();
                }
            }
            co_return (*upload)->upload_id();
        };
        entry.resume_upload_id = io::sync_wait(_loops.main_loop(), first_run(_bucket, entry.key, bytes));
        ASSERT_FALSE(entry.resume_upload_id.empty());
        entry.resume_part_size = cut_at;

        testing::rgw_fault_proxy proxy;
        ASSERT_TRUE(proxy.bound);
        transfer_options options;
        options.workers = 1;
        options.parts_per_file = 2;
        options.multipart_threshold = part_size;
        auto open = opener(proxy.options(_bucket));
        std::vector<transfer_entry> entries{entry};
        auto report = io::sync_wait(_loops.main_loop(), testing::through(&proxy, _engine.run(entries, options, open)));
        ASSERT_EQ(report.failed, 0u) << report.entries[0].error;
        auto sent = part_numbers(proxy);
        std::sort(sent.begin(), sent.end());
        if (cut_at == part_size) {
            EXPECT_TRUE(report.entries[0].resumed);
            EXPECT_EQ(sent, (std::vector<int>{3, 4, 5})) << "parts 1 and 2 were not sent again";
        } else {
            EXPECT_FALSE(report.entries[0].resumed);
            EXPECT_EQ(sent, (std::vector<int>{1, 2, 3, 4, 5})) << "parts cut at another size are not reused";
            auto list_old = [](std::string bucket, std::string key,
                               std::string id) -> io::task<remote::s3_result<std::vector<remote::s3_part>>> {
                auto client = testing::rgw_client(bucket);
                co_return co_await client.list_parts("t/" + key, id);
            };
            auto old = io::sync_wait(_loops.main_loop(), list_old(_bucket, entry.key, entry.resume_upload_id));
            EXPECT_FALSE(old.has_value()) << "the upload begun at the other size was aborted";
        }
        EXPECT_EQ(report.entries[0].hash, xxh3_128(std::as_bytes(std::span(bytes.data(), bytes.size()))));

        auto fetch = [](std::string bucket, std::string key) -> io::task<remote::s3_result<std::string>> {
            auto client = testing::rgw_client(bucket);
            co_return co_await client.get_object("t/" + key);
        };
        auto got = io::sync_wait(_loops.main_loop(), fetch(_bucket, entry.key));
        ASSERT_TRUE(got.has_value()) << got.error().message;
        EXPECT_TRUE(*got == bytes);
        *result = report.entries[0];
    }
};

TEST_F(transfer_s3_resume_test, a_half_finished_upload_resumes_from_its_parts) {
    std::string path = write_file("h", 4 * part_size + 99, 12);
    entry_result result;
    resume_after_two_parts(transfer_entry{path, "h", 4 * part_size + 99, {}, {}}, read_file(path), &result);
}

TEST_F(transfer_s3_resume_test, an_upload_whose_parts_were_cut_at_another_size_begins_again) {
    // A restart with another multipart_part_size: the first run's part 2 (bytes 5-10 MiB) has
    // the length of this run's part 2 but, cut at 10 MiB, was bytes 10-20 MiB's first half.
    std::string path = write_file("cut", 4 * part_size + 99, 13);
    entry_result result;
    resume_after_two_parts(transfer_entry{path, "cut", 4 * part_size + 99, {}, {}}, read_file(path), &result,
                           2 * part_size);
}

TEST_F(transfer_s3_resume_test, a_half_finished_pack_resumes_from_its_parts_with_every_piece_hashed) {
    // Pieces of 1.5 MiB and a few bytes, so some run on from a stored part into a sent one.
    transfer_entry pack;
    pack.key = "p";
    std::string bytes;
    for (unsigned i = 0; i < 14; ++i) {
        size_t size = i == 13 ? 99 + 4 * part_size - bytes.size() : 3 * (1 << 19) + i;
        std::string path = write_file("p" + std::to_string(i), size, 40 + i);
        pack.pieces.push_back(entry_piece{path, size});
        bytes += read_file(path);
    }
    pack.size = bytes.size();
    ASSERT_EQ(pack.size, 4 * part_size + 99);
    entry_result result;
    resume_after_two_parts(pack, bytes, &result);
    if (HasFatalFailure()) {
        return;
    }
    ASSERT_EQ(result.piece_hashes.size(), pack.pieces.size());
    for (size_t i = 0; i < pack.pieces.size(); ++i) {
        std::string piece = read_file(pack.pieces[i].local_path);
        EXPECT_EQ(result.piece_hashes[i], xxh3_128(std::as_bytes(std::span(piece.data(), piece.size())))) << i;
    }
}

}  // namespace
}  // namespace tv::pipeline
