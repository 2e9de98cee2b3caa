// SPDX-License-Identifier: Apache-2.0
// The segment file format: byte layout, constants, and the decoded footer (errors: storage/error.hh).
//
// A segment file holds one column_batch, column by column. It is written once, to a temp name,
// fsynced and renamed; published files are never modified. All integers are little-endian and
// fixed width; there is no padding anywhere.
//
//   offset 0   header (8 bytes)
//              "TVSEG\x01"                     6 bytes magic
//              u16 format version              1
//   offset 8   column blocks, one per column in schema order, back to back:
//              [null bitmap]  nullable columns only: ceil(rows / 8) bytes, bit (row % 8) of byte
//                             (row / 8) set when the row is NULL; unused high bits are 0
//              values         fixed width: rows * width bytes, the value's little-endian bytes
//                             (BOOLEAN 1 byte 0/1; TINYINT 1; SMALLINT 2; INT and DATE 4;
//                             BIGINT and DATETIME 8; LARGEINT and DECIMAL 16, two's complement
//                             of the unscaled value; FLOAT 4 and DOUBLE 8, IEEE 754 bits kept
//                             as they are, so -0.0 and every NaN payload round trip)
//                             strings (CHAR, VARCHAR, STRING, JSON): (rows + 1) u64 offsets,
//                             the first 0, non-decreasing, then the offsets[rows] bytes
//                             A NULL row holds zero (strings: an empty slot), never garbage.
//   footer     u32 schema version
//              u64 row count
//              u32 column count
//              per column:
//                u16 name length, name bytes (UTF-8)
//                u8  type tag (segment_type_tag below), u8 nullable (0/1),
//                u8  precision, u8 scale (DECIMAL, else 0), u32 length (CHAR/VARCHAR, else 0)
//                u64 block offset, u64 block length (bytes, from the file's start)
//                u64 null count
//                u8  stats flags: bit 0 min/max present (absent when every row is NULL or
//                    there are no rows), bit 1 min is a truncated prefix, bit 2 max is a
//                    truncated prefix rounded up
//                if present: u32 min length, min bytes, u32 max length, max bytes, each encoded
//                    as one value of the block (fixed width bytes, or a string's raw bytes)
//   trailer    u32 footer length (bytes from "u32 schema version" up to this field)
//              u64 footer checksum: XXH3-64 of the footer bytes, so the footer alone can be
//                  trusted without reading the blocks
//              u64 file checksum: XXH3-64 of every byte before this field
//              "TVSEGEND"                      8 bytes tail magic
//
// Min/max order: integers, DATE, DATETIME and DECIMAL numerically; BOOLEAN false < true;
// strings bytewise (unsigned); FLOAT/DOUBLE by a total order as Java's Double.compare:
// -0.0 < +0.0, and NaN above +infinity (stored as the canonical quiet NaN). Strings longer than
// segment_stat_max_bytes keep a prefix: the min's prefix is still a lower bound, the max's prefix
// gets its last byte below 0xFF incremented (the bytes after it dropped) so it stays an upper
// bound; a max made of 0xFF bytes only is kept whole.
#pragma once

#include "storage/column_batch.hh"
#include "storage/error.hh"

#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::storage {

static_assert(std::endian::native == std::endian::little, "segment blocks are the in-memory values' bytes");

inline constexpr std::string_view segment_magic{"TVSEG\x01", 6};
inline constexpr uint16_t segment_format_version = 1;
inline constexpr size_t segment_header_size = 8;
inline constexpr std::string_view segment_tail_magic = "TVSEGEND";
/// footer length + footer checksum + file checksum + tail magic.
inline constexpr size_t segment_trailer_size = 4 + 8 + 8 + 8;
/// Longest string min or max kept in the footer.
inline constexpr size_t segment_stat_max_bytes = 256;

inline constexpr uint8_t segment_stats_present = 1;
inline constexpr uint8_t segment_stats_min_truncated = 2;
inline constexpr uint8_t segment_stats_max_truncated = 4;

/// Type tags on disk, fixed forever: independent of type_kind's declaration order.
inline uint8_t segment_type_tag(type_kind k) {
    switch (k) {
    case type_kind::boolean: return 1;
    case type_kind::tinyint: return 2;
    case type_kind::smallint: return 3;
    case type_kind::int_: return 4;
    case type_kind::bigint: return 5;
    case type_kind::largeint: return 6;
    case type_kind::float_: return 7;
    case type_kind::double_: return 8;
    case type_kind::decimal: return 9;
    case type_kind::date: return 10;
    case type_kind::datetime: return 11;
    case type_kind::char_: return 12;
    case type_kind::varchar: return 13;
    case type_kind::string: return 14;
    case type_kind::json: return 15;
    }
    return 0;
}

inline std::optional<type_kind> segment_type_of_tag(uint8_t tag) {
    static constexpr type_kind kinds[] = {
        type_kind::boolean, type_kind::tinyint, type_kind::smallint, type_kind::int_,  type_kind::bigint,
        type_kind::largeint, type_kind::float_, type_kind::double_, type_kind::decimal, type_kind::date,
        type_kind::datetime, type_kind::char_, type_kind::varchar, type_kind::string,  type_kind::json,
    };
    if (tag < 1 || tag > std::size(kinds)) {
        return std::nullopt;
    }
    return kinds[tag - 1];
}

/// A min or max as stored in the footer, read back as a cell of physical type `p` (a string
/// cell points into `encoded`). NULL when the encoding does not fit the type.
inline cell decode_segment_stat(physical_type p, std::string_view encoded) {
    auto fixed = [&]<class T>(T zero) -> cell {
        if (encoded.size() != sizeof(T)) {
            return std::monostate{};
        }
        std::memcpy(&zero, encoded.data(), sizeof(T));
        return zero;
    };
    switch (p) {
    case physical_type::boolean:
        if (encoded.size() != 1 || static_cast<uint8_t>(encoded[0]) > 1) {
            return std::monostate{};
        }
        return encoded[0] != 0;
    case physical_type::int8: return fixed(int8_t{});
    case physical_type::int16: return fixed(int16_t{});
    case physical_type::int32: return fixed(int32_t{});
    case physical_type::int64: return fixed(int64_t{});
    case physical_type::int128: return fixed(int128{});
    case physical_type::float32: return fixed(float{});
    case physical_type::float64: return fixed(double{});
    case physical_type::bytes: return encoded;
    }
    return std::monostate{};
}

/// One column's entry in the footer.
struct segment_column_meta {
    column_desc desc;
    uint64_t block_offset = 0;
    uint64_t block_length = 0;
    uint64_t null_count = 0;
    bool has_min_max = false;
    bool min_truncated = false;
    bool max_truncated = false;
    std::string min;  // encoded; see decode_segment_stat
    std::string max;

    cell min_value() const { return has_min_max ? decode_segment_stat(physical_of(desc.type.kind), min) : cell{}; }
    cell max_value() const { return has_min_max ? decode_segment_stat(physical_of(desc.type.kind), max) : cell{}; }
};

/// The decoded footer and trailer.
struct segment_footer {
    uint16_t format_version = segment_format_version;
    uint32_t schema_version = 0;
    uint64_t row_count = 0;
    std::vector<segment_column_meta> columns;
    uint64_t file_size = 0;
    uint64_t footer_checksum = 0;
    uint64_t file_checksum = 0;  // XXH3-64 of every byte before it
};

}  // namespace tv::storage
