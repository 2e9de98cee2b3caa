// SPDX-License-Identifier: Apache-2.0
// Damaged blocks behind valid checksums: a segment whose bytes were changed and whose checksums
// were then recomputed gets past every checksum, so only decoding can notice. It must answer
// corrupt_data naming the file and what is wrong, as a value, never by throwing.
#include "storage/column_batch.hh"
#include "storage/segment_reader.hh"
#include "storage/segment_writer.hh"
#include "support/co_test.hh"

#include <xxhash.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

namespace tv::testing {
namespace {

using namespace tv::storage;

column_desc desc(std::string name, std::string_view sql, bool nullable = true) {
    auto t = column_type::from_sql(sql);
    if (!t) {
        throw std::runtime_error(t.error().message);
    }
    return column_desc{std::move(name), *t, nullable};
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

void spill(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

template <class T>
T load_le(const std::string& bytes, size_t at) {
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    return v;
}

template <class T>
void store_le(std::string& bytes, size_t at, T v) {
    std::memcpy(bytes.data() + at, &v, sizeof(T));
}

/// Recomputes the footer and file checksums of a segment's bytes (segment_format.hh: the
/// trailer is footer length u32, footer XXH3, file XXH3, tail magic), so the damage passes them.
void reseal(std::string& bytes) {
    size_t trailer = bytes.size() - segment_trailer_size;
    auto footer_length = load_le<uint32_t>(bytes, trailer);
    store_le<uint64_t>(bytes, trailer + 4, XXH3_64bits(bytes.data() + trailer - footer_length, footer_length));
    store_le<uint64_t>(bytes, trailer + 12, XXH3_64bits(bytes.data(), bytes.size() - 16));
}

/// Five rows: BOOLEAN b (nullable, no NULL in row 0), VARCHAR s (nullable, "" in no row) and
/// INT k (NOT NULL). Returns the file's bytes and its footer.
io::task<std::pair<std::string, segment_footer>> five_rows(std::string path) {
    column_batch batch(std::vector<column_desc>{desc("b", "BOOLEAN"), desc("s", "VARCHAR(10)"), desc("k", "INT", false)});
    for (int r = 0; r < 5; ++r) {
        std::string text = fmt::format("s{}", r);
        std::vector<cell> row = {r == 3 ? cell{} : cell{r % 2 == 0}, r == 4 ? cell{} : cell{std::string_view(text)},
                                 cell{int32_t{r}}};
        batch.append_row(row);
    }
    auto info = co_await write_segment(path, batch, 1);
    if (!info) {
        throw std::runtime_error(info.error().message);
    }
    auto footer = co_await read_segment_footer(path);
    if (!footer) {
        throw std::runtime_error(footer.error().message);
    }
    co_return std::make_pair(slurp(path), std::move(*footer));
}

struct damage {
    const char* what;
    std::function<void(std::string& bytes, const segment_footer& f)> apply;
    const char* reason;  // the end of the message
};

CO_TEST(segment_decode, damaged_blocks_behind_valid_checksums_are_corrupt_data_naming_the_file) {
    temp_dir dir;
    auto [good, footer] = co_await five_rows(dir.file("good.dat"));
    const segment_column_meta& b = footer.columns[0];
    const segment_column_meta& s = footer.columns[1];
    size_t s_offsets = s.block_offset + 1;  // after the one-byte null bitmap
    std::vector<damage> damages = {
        {"a boolean of 2", [&](std::string& bytes, const segment_footer&) { bytes[b.block_offset + 1] = 2; },
         "column b: a boolean value other than 0 or 1"},
        {"a null bit past the last row",
         [&](std::string& bytes, const segment_footer&) { bytes[b.block_offset] = static_cast<char>(bytes[b.block_offset] | 0x80); },
         "column b: null bitmap has bits set past the last row"},
        {"a NULL string slot with bytes",
         [&](std::string& bytes, const segment_footer&) { bytes[s.block_offset] = static_cast<char>(bytes[s.block_offset] | 0x01); },
         "column s: a NULL string slot holds bytes"},
        {"string offsets that decrease",
         [&](std::string& bytes, const segment_footer&) { store_le<uint64_t>(bytes, s_offsets + 8, 7); },
         "column s: string offsets decrease"},
        {"a string length past the block",
         [&](std::string& bytes, const segment_footer&) { store_le<uint64_t>(bytes, s_offsets + 5 * 8, 1000); },
         "column s: string bytes end at 1000, the block holds 8"},
    };
    for (const auto& d : damages) {
        std::string path = dir.file(fmt::format("bad-{}.dat", &d - damages.data()));
        std::string bad = good;
        d.apply(bad, footer);
        reseal(bad);
        spill(path, bad);
        std::optional<storage_result<column_batch>> read;
        try {
            read.emplace(co_await read_segment(path));
        } catch (const std::exception& e) {
            ADD_FAILURE() << d.what << ": threw " << e.what();
            continue;
        }
        TV_CO_ASSERT(ASSERT_FALSE(read->has_value()) << d.what << " went unnoticed");
        EXPECT_EQ(read->error().code, storage_errc::corrupt_data) << d.what;
        EXPECT_EQ(read->error().message, fmt::format("segment {} is corrupt: {}", path, d.reason)) << d.what;
    }
}

TEST(segment_decode, columns_that_do_not_fit_a_schema_are_an_error_value) {
    std::vector<column_vector> columns;
    columns.emplace_back(physical_type::int32, true);
    columns.back().append(int32_t{1});
    auto wrong_type = column_batch::adopt(std::vector<column_desc>{desc("a", "BIGINT")}, std::move(columns));
    ASSERT_FALSE(wrong_type.has_value());
    EXPECT_EQ(wrong_type.error().code, storage_errc::corrupt_data);
    EXPECT_EQ(wrong_type.error().message, "column a does not match its schema");

    std::vector<column_vector> two;
    two.emplace_back(physical_type::int32, true);
    two.emplace_back(physical_type::int32, true);
    two.front().append(int32_t{1});
    auto uneven = column_batch::adopt(std::vector<column_desc>{desc("a", "INT"), desc("b", "INT")}, std::move(two));
    ASSERT_FALSE(uneven.has_value());
    EXPECT_EQ(uneven.error().message, "column b has 0 rows, column a has 1");
}

}  // namespace
}  // namespace tv::testing
