// SPDX-License-Identifier: Apache-2.0
// A download's stream checks (a file format's own checksums, fed as the bytes stream in): a
// file's check sees every byte once and in order across its parts, a pack's pieces each get
// their own check with exactly their bytes, and a check that fails fails the entry with its
// message and publishes nothing. A resumable download's partial file (O_DIRECT, padded) is
// continued from the parts an earlier run recorded and published cut to size.
#include "unit/pipeline/transfer_test_util.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

namespace tv::pipeline {
namespace {

namespace fs = std::filesystem;

/// Records what it is fed; `finish` says `verdict`, and that it was called.
class recording_check final : public stream_check {
public:
    recording_check(std::string* seen, bool* finished, std::optional<std::string> verdict)
        : _seen(seen), _finished(finished), _verdict(std::move(verdict)) {}

    void update(std::span<const std::byte> bytes) override {
        _seen->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::optional<std::string> finish() override {
        *_finished = true;
        return _verdict;
    }

private:
    std::string* _seen;
    bool* _finished;
    std::optional<std::string> _verdict;
};

struct check_record {
    std::string seen;
    bool finished = false;
    int made = 0;
};

std::function<std::unique_ptr<stream_check>()> recorded_by(check_record* record,
                                                          std::optional<std::string> verdict = std::nullopt) {
    return [record, verdict]() {
        record->made += 1;
        return std::make_unique<recording_check>(&record->seen, &record->finished, verdict);
    };
}

TEST_F(transfer_test, a_files_stream_check_sees_every_byte_once_in_order) {
    size_t size = 3 * part_size + 17;
    std::string src = write_file("checked", size, 61);
    transfer_options options;
    options.multipart_threshold = part_size;
    auto up = run({transfer_entry{src, "chk/checked", size, {}, {}}}, options);
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    check_record record;
    transfer_entry down{_dir + "/back/checked", "chk/checked", size, up.entries[0].hash, {}};
    down.check = recorded_by(&record);
    options.way = direction::download;
    auto back = run({down}, options);
    ASSERT_EQ(back.failed, 0u) << back.entries[0].error;
    EXPECT_TRUE(back.entries[0].checked);
    EXPECT_EQ(record.made, 1);
    EXPECT_TRUE(record.finished);
    EXPECT_TRUE(record.seen == read_file(src)) << "the check was fed " << record.seen.size() << " bytes";
    EXPECT_TRUE(read_file(down.local_path) == read_file(src));
}

TEST_F(transfer_test, a_failing_stream_check_fails_the_download_and_publishes_nothing) {
    size_t size = 2 * part_size + 5;
    std::string src = write_file("bad", size, 62);
    auto up = run({transfer_entry{src, "chk/bad", size, {}, {}}}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    fs::create_directories(_dir + "/back");
    check_record record;
    transfer_entry down{_dir + "/back/bad", "chk/bad", size, up.entries[0].hash, {}};
    down.check = recorded_by(&record, "bad: block 2's checksum does not match");
    transfer_options options;
    options.way = direction::download;
    auto back = run({down}, options);
    ASSERT_EQ(back.failed, 1u);
    EXPECT_EQ(back.entries[0].error, "bad: block 2's checksum does not match");
    EXPECT_FALSE(back.entries[0].checked);
    EXPECT_TRUE(fs::is_empty(_dir + "/back")) << "neither the file nor a temporary one is left";
}

TEST_F(transfer_test, each_pack_piece_is_checked_with_exactly_its_bytes_and_one_failure_publishes_none) {
    std::vector<size_t> sizes = {10, part_size + 5, 0, 7, 2 * part_size};
    transfer_entry pack;
    pack.key = "chk/pack";
    std::string bytes;
    for (size_t i = 0; i < sizes.size(); ++i) {
        std::string path = write_file("piece-" + std::to_string(i), sizes[i], 70 + i);
        pack.pieces.push_back(entry_piece{path, sizes[i]});
        pack.size += sizes[i];
        bytes += read_file(path);
    }
    auto up = run({pack}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    fs::create_directories(_dir + "/back");
    transfer_options options;
    options.way = direction::download;
    for (size_t failing : {sizes.size(), size_t{1}}) {
        SCOPED_TRACE(failing == sizes.size() ? "every check passes" : "piece 1's check fails");
        std::vector<check_record> records(sizes.size());
        transfer_entry down;
        down.key = pack.key;
        down.size = pack.size;
        for (size_t k = 0; k < sizes.size(); ++k) {
            entry_piece piece{_dir + "/back/" + std::to_string(k), sizes[k], hash_of(read_file(pack.pieces[k].local_path))};
            std::optional<std::string> verdict;
            if (k == failing) {
                verdict = "piece 1 is not a segment";
            }
            piece.check = recorded_by(&records[k], verdict);
            down.pieces.push_back(std::move(piece));
        }
        auto back = run({down}, options);
        if (failing == sizes.size()) {
            ASSERT_EQ(back.failed, 0u) << back.entries[0].error;
            EXPECT_TRUE(back.entries[0].checked);
            for (size_t k = 0; k < sizes.size(); ++k) {
                EXPECT_EQ(records[k].made, 1) << "piece " << k;
                EXPECT_TRUE(records[k].finished) << "piece " << k;
                EXPECT_TRUE(records[k].seen == read_file(pack.pieces[k].local_path)) << "piece " << k;
                EXPECT_TRUE(read_file(down.pieces[k].local_path) == read_file(pack.pieces[k].local_path)) << "piece " << k;
                fs::remove(down.pieces[k].local_path);
            }
        } else {
            ASSERT_EQ(back.failed, 1u);
            EXPECT_EQ(back.entries[0].error, "piece 1 is not a segment");
            EXPECT_FALSE(back.entries[0].checked);
        }
        EXPECT_TRUE(fs::is_empty(_dir + "/back")) << "no piece and no partial file is left";
    }
}

/// A resumable download writes `<path>.partial` (O_DIRECT where the file system allows, its tail
/// padded to whole blocks) and publishes the file cut to its size. A later run reads back the
/// parts an earlier one recorded instead of fetching them, feeding them to the check as well;
/// a recorded part whose bytes on disk no longer match is fetched again.
TEST_F(transfer_test, a_resumable_download_continues_from_its_partial_file_cut_to_size) {
    size_t size = 3 * part_size + 17;
    std::string src = write_file("resumed", size, 63);
    transfer_options options;
    options.multipart_threshold = part_size;
    auto up = run({transfer_entry{src, "chk/resumed", size, {}, {}}}, options);
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    std::string bytes = read_file(src);
    options.way = direction::download;
    std::string target = _dir + "/back/resumed";
    for (bool damaged : {false, true}) {
        SCOPED_TRACE(damaged ? "part 0 damaged on disk" : "parts 0 and 1 intact on disk");
        fs::create_directories(_dir + "/back");
        {
            // What an earlier run left: its first two parts, the rest never written.
            std::string earlier = bytes.substr(0, 2 * part_size);
            if (damaged) {
                earlier[100] = static_cast<char>(earlier[100] ^ 0x5a);
            }
            std::ofstream(target + ".partial", std::ios::binary).write(earlier.data(), static_cast<std::streamsize>(earlier.size()));
        }
        check_record record;
        transfer_entry down{target, "chk/resumed", size, up.entries[0].hash, {}};
        down.resumable = true;
        down.resume_parts = {{0, up.entries[0].part_hashes[0]}, {1, up.entries[0].part_hashes[1]}};
        down.check = recorded_by(&record);
        auto back = run({down}, options);
        ASSERT_EQ(back.failed, 0u) << back.entries[0].error;
        EXPECT_TRUE(back.entries[0].resumed) << "part 1 at least came from the partial file";
        EXPECT_EQ(fs::file_size(target), size) << "the padded tail is cut off";
        EXPECT_TRUE(read_file(target) == bytes);
        EXPECT_TRUE(record.seen == bytes) << "the check saw the read-back parts too";
        EXPECT_FALSE(fs::exists(target + ".partial"));
        fs::remove(target);
    }
}

/// Records a resumable download's journaling: every part reported durable, and whether any came
/// after its entry was reported finished.
struct part_journal final : transfer_observer {
    void part_done(size_t index, const remote::uploaded_part& part) override {
        std::lock_guard lock(mutex);
        parts[index].push_back(part);
        late += done.contains(index) ? 1 : 0;
    }
    void entry_done(size_t index, const entry_result&) override {
        std::lock_guard lock(mutex);
        done.insert(index);
    }
    std::mutex mutex;
    std::map<size_t, std::vector<remote::uploaded_part>> parts;
    std::set<size_t> done;
    int late = 0;
};

/// The parts of a resumable download are made durable and journaled beside the lanes' next
/// parts, not in their way: each part is still reported once, with its hash, and every report
/// comes before its file is reported finished (a restart trusts what was reported).
TEST_F(transfer_test, a_resumable_download_reports_every_part_once_before_its_file_ends) {
    std::vector<transfer_entry> up;
    std::vector<size_t> sizes{5 * part_size, 4 * part_size + 99, 2 * part_size};
    for (size_t i = 0; i < sizes.size(); ++i) {
        std::string name = "journaled" + std::to_string(i);
        up.push_back(transfer_entry{write_file(name, sizes[i], 70 + i), "chk/" + name, sizes[i], {}, {}});
    }
    transfer_options options;
    options.multipart_threshold = part_size;
    options.workers = 1;
    auto sent = run(up, options);
    ASSERT_EQ(sent.failed, 0u) << sent.entries[0].error;
    options.way = direction::download;
    fs::create_directories(_dir + "/back");
    std::vector<transfer_entry> down;
    for (size_t i = 0; i < up.size(); ++i) {
        transfer_entry d{_dir + "/back/f" + std::to_string(i), up[i].key, sizes[i], sent.entries[i].hash, {}};
        d.resumable = true;
        down.push_back(std::move(d));
    }
    part_journal journal;
    auto t = _engine.run(down, options, local_repo(), {}, nullptr, &journal);
    auto back = io::sync_wait(_loops.main_loop(), std::move(t));
    ASSERT_EQ(back.failed, 0u) << back.entries[0].error;
    EXPECT_EQ(journal.late, 0) << "a part was journaled after its file was reported finished";
    for (size_t i = 0; i < down.size(); ++i) {
        SCOPED_TRACE(down[i].local_path);
        EXPECT_TRUE(read_file(down[i].local_path) == read_file(up[i].local_path));
        auto& reported = journal.parts[i];
        std::sort(reported.begin(), reported.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
        ASSERT_EQ(reported.size(), back.entries[i].part_hashes.size());
        for (size_t k = 0; k < reported.size(); ++k) {
            EXPECT_EQ(reported[k].number, static_cast<int>(k + 1));
            EXPECT_EQ(reported[k].etag, back.entries[i].part_hashes[k].hex());
        }
    }
}

}  // namespace
}  // namespace tv::pipeline
