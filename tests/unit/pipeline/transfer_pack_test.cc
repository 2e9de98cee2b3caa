// SPDX-License-Identifier: Apache-2.0
// Packs (many small files put as one object) against a local repository directory: the object
// is the pieces end to end and each piece's hash equals its file's (zero-length pieces, pieces
// across part boundaries and at part edges); a multipart pack journals its parts as a file does;
// a short or missing piece fails naming it, sizes that do not add up fail, a recorded hash
// still checks the whole object. A download writes a pack (or a range of one) into its pieces,
// skipping gaps, checks each piece's hash and publishes all of them or none; pieces written in
// place have their writeback started, not left to the sync that makes them durable.
#include "support/page_cache.hh"
#include "unit/pipeline/transfer_test_util.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <sys/stat.h>

namespace tv::pipeline {
namespace {

namespace fs = std::filesystem;

/// A pack's entry and its bytes end to end.
struct pack {
    transfer_entry entry;
    std::string bytes;
};

class transfer_pack_test : public transfer_test {
protected:
    /// One piece file per size, named after the key.
    pack write_pack(const std::string& key, const std::vector<size_t>& sizes) {
        pack p;
        p.entry.key = key;
        std::string name = key.substr(key.rfind('/') + 1);
        for (size_t i = 0; i < sizes.size(); ++i) {
            std::string path = write_file(name + "-" + std::to_string(i), sizes[i], 1000 * _packs + i);
            p.entry.pieces.push_back(entry_piece{path, sizes[i]});
            p.entry.size += sizes[i];
            p.bytes += read_file(path);
        }
        ++_packs;
        return p;
    }

    /// The report's entry `i` stored `p` whole, with every piece's and part's hash.
    void expect_stored(const transfer_report& report, size_t i, const pack& p) {
        const entry_result& r = report.entries[i];
        SCOPED_TRACE(p.entry.key);
        ASSERT_TRUE(r.ok) << r.error;
        EXPECT_EQ(r.bytes, p.bytes.size());
        EXPECT_TRUE(read_file(_dir + "/repo/" + p.entry.key) == p.bytes) << "the pieces end to end";
        EXPECT_EQ(r.hash, hash_of(p.bytes));
        ASSERT_EQ(r.piece_hashes.size(), p.entry.pieces.size());
        for (size_t k = 0; k < p.entry.pieces.size(); ++k) {
            EXPECT_EQ(r.piece_hashes[k], hash_of(read_file(p.entry.pieces[k].local_path))) << "piece " << k;
        }
        for (size_t part = 0; part < r.part_hashes.size(); ++part) {
            EXPECT_EQ(r.part_hashes[part], hash_of(p.bytes.substr(part * part_size, part_size))) << "part " << part;
        }
    }

    /// The entry that downloads all of `p` into `dir`/<index>, each piece's hash expected.
    transfer_entry download_of(const pack& p, const std::string& dir) {
        transfer_entry down;
        down.key = p.entry.key;
        down.size = p.entry.size;
        for (size_t k = 0; k < p.entry.pieces.size(); ++k) {
            down.pieces.push_back(entry_piece{dir + "/" + std::to_string(k), p.entry.pieces[k].size,
                                              hash_of(read_file(p.entry.pieces[k].local_path))});
        }
        return down;
    }

    uint64_t _packs = 0;
};

/// A download that publishes pieces `mode`'s way.
transfer_options download_options(transfer_options::piece_publishing mode) {
    transfer_options options;
    options.way = direction::download;
    options.pack_pieces = mode;
    return options;
}

TEST_F(transfer_pack_test, a_pack_is_its_pieces_end_to_end_with_each_piece_hashed) {
    constexpr size_t kib = 1024;
    // Small files as a backup packs them: many of 64 KiB, some empty, a few of odd sizes; 9.5 MiB
    // in 10 parts, pieces across every edge. And a pack of small ones below a part: one PUT.
    std::vector<size_t> many;
    std::vector<size_t> small;
    for (size_t i = 0; i < 200; ++i) {
        many.push_back(i % 17 == 0 ? 0 : i % 5 == 0 ? 1 + i * 37 : 64 * kib);
        small.push_back(i % 17 == 0 ? 0 : i % 5 == 0 ? 1 + i * 13 : 4 * kib);
    }
    // Empty pieces first, at a part's edge and last; a piece that ends exactly at the first
    // edge; one that straddles the second; one larger than a part.
    std::vector<size_t> edges = {0, 0, part_size - 100, 100, 0, part_size - 10, 30, 3 * part_size / 2, 7, 0};
    std::vector<pack> packs = {write_pack("packs/many", many), write_pack("packs/small", small),
                               write_pack("packs/edges", edges), write_pack("packs/empty", {0, 0, 0})};
    ASSERT_LT(packs[1].bytes.size(), part_size) << "a single PUT";
    std::vector<transfer_entry> entries;
    for (const auto& p : packs) {
        entries.push_back(p.entry);
    }
    transfer_options options;
    options.multipart_threshold = part_size;
    auto report = run(entries, options);
    for (size_t i = 0; i < packs.size(); ++i) {
        expect_stored(report, i, packs[i]);
    }
    EXPECT_EQ(report.entries[0].part_hashes.size(), 10u);
    EXPECT_EQ(report.entries[1].part_hashes.size(), 1u);
    EXPECT_EQ(report.entries[2].part_hashes.size(), 4u) << "3.5 MiB in parts of 1 MiB";
    EXPECT_EQ(report.entries[2].parts.size(), 4u);
    EXPECT_EQ(report.entries[3].piece_hashes[1], xxh3_128({}));
    EXPECT_EQ(_pool.available(), _pool.capacity());
}

/// Records the parts journaled, as a backup job's observer does.
struct part_counter : transfer_observer {
    std::mutex mutex;
    std::vector<int> numbers;
    void part_done(size_t, const remote::uploaded_part& part) override {
        std::lock_guard lock(mutex);
        numbers.push_back(part.number);
    }
};

TEST_F(transfer_pack_test, a_multipart_pack_journals_its_parts_and_checks_its_recorded_hash) {
    std::vector<size_t> sizes(40, 64 * 1024 + 3);  // 2.5 MiB: three parts, pieces across both edges
    auto p = write_pack("packs/journaled", sizes);
    p.entry.expected = hash_of(p.bytes);
    transfer_options options;
    options.multipart_threshold = part_size;
    options.parts_per_file = 3;
    part_counter observer;
    auto t = _engine.run({p.entry}, options, local_repo(), {}, nullptr, &observer);
    auto report = io::sync_wait(_loops.main_loop(), std::move(t));
    expect_stored(report, 0, p);
    std::sort(observer.numbers.begin(), observer.numbers.end());
    EXPECT_EQ(observer.numbers, (std::vector<int>{1, 2, 3}));

    // The same pack against a hash it does not have fails whole, and names what it is.
    auto wrong = p;
    wrong.entry.key = "packs/wrong";
    wrong.entry.expected = xxh3_128({});
    auto failed = run({wrong.entry}, options);
    ASSERT_EQ(failed.failed, 1u);
    EXPECT_NE(failed.entries[0].error.find("a pack of 40 files does not match its recorded hash: expected xxh3-128 " +
                                           xxh3_128({}).hex()),
              std::string::npos)
        << failed.entries[0].error;
    EXPECT_FALSE(fs::exists(_dir + "/repo/packs/wrong"));
}

TEST_F(transfer_pack_test, a_short_or_missing_piece_fails_the_pack_naming_the_file) {
    std::vector<size_t> sizes(30, 50'000);
    auto p = write_pack("packs/short", sizes);
    std::string shortened = p.entry.pieces[21].local_path;
    fs::resize_file(shortened, 49'000);  // in the second part
    transfer_options options;
    options.multipart_threshold = part_size;
    auto report = run({p.entry}, options);
    ASSERT_EQ(report.failed, 1u);
    EXPECT_NE(report.entries[0].error.find(shortened + " is shorter than its recorded size 50000 (read 49000 bytes at 0)"),
              std::string::npos)
        << report.entries[0].error;
    EXPECT_FALSE(fs::exists(_dir + "/repo/packs/short"));

    auto gone = write_pack("packs/gone", {10, 0, 20});
    fs::remove(gone.entry.pieces[1].local_path);  // an empty piece is opened too: it must exist
    auto missing = run({gone.entry}, options);
    ASSERT_EQ(missing.failed, 1u);
    EXPECT_NE(missing.entries[0].error.find("open " + gone.entry.pieces[1].local_path + ": "), std::string::npos)
        << missing.entries[0].error;
    EXPECT_EQ(_pool.available(), _pool.capacity());
}

TEST_F(transfer_pack_test, a_pack_whose_sizes_do_not_add_up_fails_without_reading) {
    auto p = write_pack("packs/sum", {100, 200, 300});
    p.entry.size = 601;
    auto report = run({p.entry}, transfer_options{});
    ASSERT_EQ(report.failed, 1u);
    EXPECT_EQ(report.entries[0].error, "pack packs/sum: its 3 pieces add up to 600 bytes, not its recorded size 601");
    p.entry.pieces[0].size = UINT64_MAX;
    p.entry.size = 100;
    report = run({p.entry}, transfer_options{});
    ASSERT_EQ(report.failed, 1u);
    EXPECT_EQ(report.entries[0].error,
              "pack packs/sum: its 3 pieces add up to more than 2^64 bytes, not its recorded size 100");
    EXPECT_FALSE(fs::exists(_dir + "/repo/packs/sum"));
}

ino_t inode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

/// Both ways of publishing pieces (transfer_options::pack_pieces), named for SCOPED_TRACE.
const std::vector<std::pair<transfer_options::piece_publishing, const char*>> publishing_modes = {
    {transfer_options::piece_publishing::durable_rename, "pieces renamed into place"},
    {transfer_options::piece_publishing::in_place, "pieces written in place"},
};

TEST_F(transfer_pack_test, a_pack_downloads_into_its_pieces_skipping_gaps) {
    auto p = write_pack("packs/down", {10, 0, part_size + 5, 20, 7});
    auto up = run({p.entry}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    for (const auto& [mode, name] : publishing_modes) {
        SCOPED_TRACE(name);
        fs::remove_all(_dir + "/back");
        fs::create_directories(_dir + "/back");
        transfer_options options = download_options(mode);
        // From the second piece on: the empty one, the one across a part boundary, a gap, the last.
        transfer_entry down;
        down.key = p.entry.key;
        down.object_offset = 10;
        down.size = p.entry.size - 10;
        std::vector<size_t> kept = {1, 2, 4};
        for (size_t k = 1; k < p.entry.pieces.size(); ++k) {
            const entry_piece& piece = p.entry.pieces[k];
            bool keep = std::find(kept.begin(), kept.end(), k) != kept.end();
            down.pieces.push_back(entry_piece{keep ? _dir + "/back/" + std::to_string(k) : std::string(), piece.size,
                                              hash_of(read_file(piece.local_path))});
        }
        // What a crashed earlier run left of piece 2 (shorter than it): written over in place,
        // replaced by a rename otherwise.
        std::string stale = _dir + "/back/2";
        std::ofstream(stale) << "stale";
        ino_t stale_inode = inode_of(stale);
        auto report = run({down}, options);
        ASSERT_EQ(report.failed, 0u) << report.entries[0].error;
        for (size_t k : kept) {
            EXPECT_TRUE(read_file(_dir + "/back/" + std::to_string(k)) == read_file(p.entry.pieces[k].local_path))
                << "piece " << k;
        }
        if (mode == transfer_options::piece_publishing::in_place) {
            EXPECT_EQ(inode_of(stale), stale_inode) << "written where it is, not renamed into place";
        } else {
            EXPECT_NE(inode_of(stale), stale_inode) << "renamed into place";
        }
        EXPECT_FALSE(fs::exists(_dir + "/back/3")) << "a gap is not kept";
        for (const auto& entry : fs::directory_iterator(_dir + "/back")) {
            EXPECT_EQ(entry.path().string().find(".partial"), std::string::npos) << entry.path();
        }
        EXPECT_EQ(_pool.available(), _pool.capacity());
    }
}

TEST_F(transfer_pack_test, a_pack_piece_that_does_not_match_publishes_no_piece) {
    auto p = write_pack("packs/bad", {100, 200, 300});
    auto up = run({p.entry}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    for (const auto& [mode, name] : publishing_modes) {
        SCOPED_TRACE(name);
        fs::create_directories(_dir + "/back");
        transfer_entry down = download_of(p, _dir + "/back");
        hash128 wrong = hash_of("something else");
        down.pieces[1].expected = wrong;
        auto report = run({down}, download_options(mode));
        ASSERT_EQ(report.failed, 1u);
        EXPECT_EQ(report.entries[0].error,
                  fmt::format("packs/bad (the 200 bytes at offset 100, for {}/back/1) does not match its recorded hash: "
                              "expected xxh3-128 {}, got {}",
                              _dir, wrong.hex(), hash_of(read_file(p.entry.pieces[1].local_path)).hex()));
        EXPECT_TRUE(fs::is_empty(_dir + "/back")) << "no piece and no partial file is left";
    }
}

/// A pack's download checks each piece by its own hash; the range as a whole only when a hash is
/// expected of it (hashing it, and each part, for nothing would be two more passes over every
/// byte of a restore).
TEST_F(transfer_pack_test, a_pack_download_checks_its_whole_range_only_when_a_hash_is_expected_of_it) {
    auto p = write_pack("packs/whole", {part_size + 5, 20, part_size - 3, 7});  // three parts
    auto up = run({p.entry}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    auto download = [&](std::optional<hash128> expected) {
        fs::remove_all(_dir + "/back");
        fs::create_directories(_dir + "/back");
        transfer_entry down = download_of(p, _dir + "/back");
        down.expected = expected;
        return run({down}, download_options(transfer_options::piece_publishing::durable_rename));
    };
    auto unchecked = download(std::nullopt);
    ASSERT_EQ(unchecked.failed, 0u) << unchecked.entries[0].error;
    EXPECT_EQ(unchecked.entries[0].piece_hashes.size(), p.entry.pieces.size());
    EXPECT_TRUE(unchecked.entries[0].part_hashes.empty()) << "no part is hashed";

    auto checked = download(hash_of(p.bytes));
    ASSERT_EQ(checked.failed, 0u) << checked.entries[0].error;
    EXPECT_EQ(checked.entries[0].hash, hash_of(p.bytes));

    hash128 wrong = hash_of("another pack");
    auto refused = download(wrong);
    ASSERT_EQ(refused.failed, 1u);
    EXPECT_EQ(refused.entries[0].error,
              fmt::format("packs/whole (the {} bytes at offset 0) does not match its recorded hash: expected xxh3-128 {}, "
                          "got {}",
                          p.bytes.size(), wrong.hex(), hash_of(p.bytes).hex()));
    EXPECT_TRUE(fs::is_empty(_dir + "/back")) << "no piece is left";
}

/// Pieces spread unevenly over three directories (a restore's tablets), some across part edges,
/// all come back whole, each where it belongs.
TEST_F(transfer_pack_test, a_pack_download_into_several_directories_puts_every_piece_in_its_own) {
    std::vector<size_t> sizes = {300, part_size / 2, 40, part_size, 0, 17, part_size / 3, 5, 9};
    std::vector<std::string> dirs = {"a", "a", "a", "b", "c", "c", "a", "b", "c"};
    auto p = write_pack("packs/dirs", sizes);
    auto up = run({p.entry}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    for (const auto& [mode, name] : publishing_modes) {
        SCOPED_TRACE(name);
        fs::remove_all(_dir + "/back");
        transfer_entry down;
        down.key = p.entry.key;
        down.size = p.entry.size;
        for (size_t k = 0; k < sizes.size(); ++k) {
            fs::create_directories(_dir + "/back/" + dirs[k]);
            down.pieces.push_back(entry_piece{fmt::format("{}/back/{}/{}", _dir, dirs[k], k), sizes[k],
                                              hash_of(read_file(p.entry.pieces[k].local_path))});
        }
        auto report = run({down}, download_options(mode));
        ASSERT_EQ(report.failed, 0u) << report.entries[0].error;
        for (size_t k = 0; k < sizes.size(); ++k) {
            EXPECT_TRUE(read_file(down.pieces[k].local_path) == read_file(p.entry.pieces[k].local_path)) << "piece " << k;
        }
    }
}

/// Pieces written in place are made durable later, all at once (RESTORE's syncfs per journal
/// flush): the download starts their writeback as it writes them, so the disk writes them beside
/// the reads still under way instead of all of them in that sync.
TEST_F(transfer_pack_test, a_pack_download_in_place_starts_writing_its_pieces_back) {
    std::string probe = write_file("probe", 64 << 10, 7);
    auto probed = testing::page_cache_of(probe);
    if (!probed) {
        GTEST_SKIP() << "cachestat(2) is missing (Linux before 6.5): " << std::strerror(errno);
    }
    if (probed->dirty == 0) {
        GTEST_SKIP() << "the file system of " << _dir << " keeps no dirty pages (tmpfs?)";
    }
    auto p = write_pack("packs/writeback", {64 << 10, 64 << 10, part_size - (128 << 10), 64 << 10, 300});
    auto up = run({p.entry}, transfer_options{});
    ASSERT_EQ(up.failed, 0u) << up.entries[0].error;
    fs::create_directories(_dir + "/back");
    transfer_entry down = download_of(p, _dir + "/back");
    auto report = run({down}, download_options(transfer_options::piece_publishing::in_place));
    ASSERT_EQ(report.failed, 0u) << report.entries[0].error;

    auto dirty_pages = [&] {
        uint64_t dirty = 0;
        for (const auto& piece : down.pieces) {
            auto state = testing::page_cache_of(piece.local_path);
            EXPECT_TRUE(state.has_value()) << piece.local_path;
            dirty += state ? state->dirty : 0;
        }
        return dirty;
    };
    // Started, not waited for: the pages leave the dirty state as the device takes them.
    uint64_t dirty = dirty_pages();
    for (int i = 0; i < 500 && dirty > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        dirty = dirty_pages();
    }
    EXPECT_EQ(dirty, 0u) << "pages still dirty in the pieces, 5 s after the download";
    for (size_t k = 0; k < down.pieces.size(); ++k) {
        EXPECT_TRUE(read_file(down.pieces[k].local_path) == read_file(p.entry.pieces[k].local_path)) << "piece " << k;
    }
}

}  // namespace
}  // namespace tv::pipeline
