// SPDX-License-Identifier: Apache-2.0
// Segment reader: trailer and checksum verification, footer parsing and block decoding.
#include "storage/segment_reader.hh"

#include "io/error.hh"
#include "io/file.hh"
#include "io/ops.hh"

#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace tv::storage {

namespace {

storage_error corrupt(std::string_view path, std::string_view problem) {
    return storage_error{storage_errc::corrupt_data, fmt::format("segment {} is corrupt: {}", path, problem)};
}

storage_error read_error(std::string_view path, const std::error_code& ec, std::string_view what) {
    return storage_error{storage_errc::io_error,
                         fmt::format("segment {} could not be read: {}", path, io::describe(ec, what))};
}

template <class T>
T get_le(std::span<const std::byte> bytes, size_t at) {
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));  // the host is little-endian (segment_format.hh)
    return v;
}

/// A footer column entry with an empty name and no min/max: 2 + 1 + 1 + 1 + 1 + 4 + 8 + 8 + 8 + 1.
constexpr size_t min_column_entry = 35;

/// Bounds-checked reads through the footer; any overrun makes `ok` false for good.
class footer_cursor {
public:
    explicit footer_cursor(std::span<const std::byte> bytes) : _bytes(bytes) {}

    bool ok() const { return _ok; }
    bool at_end() const { return _at == _bytes.size(); }

    template <class T>
    T get() {
        if (!_ok || _bytes.size() - _at < sizeof(T)) {
            _ok = false;
            return T{};
        }
        T v = get_le<T>(_bytes, _at);
        _at += sizeof(T);
        return v;
    }

    std::string get_bytes(size_t n) {
        if (!_ok || _bytes.size() - _at < n) {
            _ok = false;
            return {};
        }
        std::string out(reinterpret_cast<const char*>(_bytes.data() + _at), n);
        _at += n;
        return out;
    }

private:
    std::span<const std::byte> _bytes;
    size_t _at = 0;
    bool _ok = true;
};

/// What a tail says before anything is trusted: where the footer is and the stored checksums.
struct trailer {
    uint64_t footer_offset = 0;
    uint32_t footer_length = 0;
    uint64_t footer_checksum = 0;
    uint64_t file_checksum = 0;
};

/// Checks the last segment_trailer_size bytes of a file of `file_size` bytes.
storage_result<trailer> parse_trailer(std::string_view path, std::span<const std::byte> tail, uint64_t file_size) {
    if (file_size < segment_header_size + segment_trailer_size) {
        return corrupt(path, fmt::format("too short ({} bytes) to be a segment", file_size));
    }
    std::string_view magic(reinterpret_cast<const char*>(tail.data()) + tail.size() - 8, 8);
    if (magic != segment_tail_magic) {
        return corrupt(path, "bad tail magic (truncated or not a segment file)");
    }
    trailer t;
    t.footer_length = get_le<uint32_t>(tail, 0);
    t.footer_checksum = get_le<uint64_t>(tail, 4);
    t.file_checksum = get_le<uint64_t>(tail, 12);
    if (t.footer_length > file_size - segment_header_size - segment_trailer_size) {
        return corrupt(path, fmt::format("footer length {} does not fit a file of {} bytes", t.footer_length,
                                         file_size));
    }
    t.footer_offset = file_size - segment_trailer_size - t.footer_length;
    return t;
}

storage_result<void> check_header(std::string_view path, std::span<const std::byte> header) {
    std::string_view magic(reinterpret_cast<const char*>(header.data()), segment_magic.size());
    if (magic != segment_magic) {
        return corrupt(path, "bad header magic");
    }
    auto version = get_le<uint16_t>(header, segment_magic.size());
    if (version != segment_format_version) {
        return corrupt(path, fmt::format("unknown format version {}", version));
    }
    return {};
}

/// The bytes a column's block must hold for `rows` rows, strings counting their offsets only.
uint64_t min_block_length(const segment_column_meta& c, uint64_t rows) {
    uint64_t bitmap = c.desc.nullable ? (rows + 7) / 8 : 0;
    physical_type p = physical_of(c.desc.type.kind);
    if (p == physical_type::bytes) {
        return bitmap + 8 * (rows + 1);
    }
    return bitmap + rows * value_width(p);
}

/// Parses and checks the footer against the file's layout: blocks back to back from the
/// header to the footer, each of a length its type and the row count allow.
storage_result<segment_footer> parse_footer(std::string_view path, std::span<const std::byte> bytes,
                                            const trailer& t, uint64_t file_size) {
    footer_cursor in(bytes);
    segment_footer f;
    f.file_size = file_size;
    f.footer_checksum = t.footer_checksum;
    f.file_checksum = t.file_checksum;
    f.schema_version = in.get<uint32_t>();
    f.row_count = in.get<uint64_t>();
    auto column_count = in.get<uint32_t>();
    if (!in.ok()) {
        return corrupt(path, "footer cut short");
    }
    // Every block holds at least one byte per row, and each footer entry at least
    // min_column_entry bytes: bounding both first keeps the arithmetic below from overflowing.
    if (column_count > bytes.size() / min_column_entry) {
        return corrupt(path, fmt::format("column count {} does not fit the footer", column_count));
    }
    if ((column_count == 0 && f.row_count != 0) || f.row_count > file_size) {
        return corrupt(path, fmt::format("row count {} does not fit the file", f.row_count));
    }
    uint64_t expected_offset = segment_header_size;
    for (uint32_t i = 0; i < column_count; ++i) {
        segment_column_meta c;
        c.desc.name = in.get_bytes(in.get<uint16_t>());
        uint8_t tag = in.get<uint8_t>();
        uint8_t nullable = in.get<uint8_t>();
        c.desc.type.precision = in.get<uint8_t>();
        c.desc.type.scale = in.get<uint8_t>();
        c.desc.type.length = static_cast<int>(in.get<uint32_t>());
        c.block_offset = in.get<uint64_t>();
        c.block_length = in.get<uint64_t>();
        c.null_count = in.get<uint64_t>();
        uint8_t flags = in.get<uint8_t>();
        if (flags & segment_stats_present) {
            c.has_min_max = true;
            c.min_truncated = (flags & segment_stats_min_truncated) != 0;
            c.max_truncated = (flags & segment_stats_max_truncated) != 0;
            c.min = in.get_bytes(in.get<uint32_t>());
            c.max = in.get_bytes(in.get<uint32_t>());
        }
        if (!in.ok()) {
            return corrupt(path, fmt::format("footer cut short in column {}", i));
        }
        auto kind = segment_type_of_tag(tag);
        if (!kind || nullable > 1 || flags > 7) {
            return corrupt(path, fmt::format("column {} ({}) has an unknown type tag {} or bad flags", i,
                                             c.desc.name, tag));
        }
        c.desc.type.kind = *kind;
        c.desc.nullable = nullable != 0;
        physical_type p = physical_of(*kind);
        if (c.block_offset != expected_offset || c.block_length > t.footer_offset - c.block_offset ||
            c.block_length < min_block_length(c, f.row_count) ||
            (p != physical_type::bytes && c.block_length != min_block_length(c, f.row_count))) {
            return corrupt(path, fmt::format("column {} ({}) block at {} of {} bytes is out of place", i,
                                             c.desc.name, c.block_offset, c.block_length));
        }
        bool stats_fit = c.has_min_max ? c.null_count < f.row_count : c.null_count == f.row_count;
        if (c.has_min_max && p != physical_type::bytes) {
            stats_fit = stats_fit && c.min.size() == value_width(p) && c.max.size() == value_width(p);
        }
        if (c.null_count > f.row_count || (!c.desc.nullable && c.null_count != 0) || !stats_fit) {
            return corrupt(path, fmt::format("column {} ({}) has inconsistent null count or min/max", i,
                                             c.desc.name));
        }
        expected_offset += c.block_length;
        f.columns.push_back(std::move(c));
    }
    if (!in.at_end() || expected_offset != t.footer_offset) {
        return corrupt(path, "footer and blocks do not tile the file");
    }
    return f;
}

storage_result<std::vector<uint8_t>> decode_nulls(std::span<const std::byte> bitmap, uint64_t rows) {
    std::vector<uint8_t> nulls(rows);
    for (uint64_t row = 0; row < rows; ++row) {
        nulls[row] = (std::to_integer<uint8_t>(bitmap[row / 8]) >> (row % 8)) & 1;
    }
    if (rows % 8 != 0 && (std::to_integer<uint8_t>(bitmap[rows / 8]) >> (rows % 8)) != 0) {
        return make_error(storage_errc::corrupt_data, "null bitmap has bits set past the last row");
    }
    return nulls;
}

template <class T>
storage_result<column_vector> decode_fixed(bool nullable, std::vector<uint8_t> nulls, std::span<const std::byte> values,
                                           uint64_t rows) {
    std::vector<T> out(rows);
    if (rows != 0) {
        std::memcpy(out.data(), values.data(), rows * sizeof(T));
    }
    return column_vector::decode_values<T>(nullable, std::move(out), std::move(nulls));
}

/// One column from its block (bounds already checked by parse_footer). Contents that do not
/// decode are corrupt_data saying what is wrong, without the file: decode_segment adds it.
storage_result<column_vector> decode_column(const segment_column_meta& c, std::span<const std::byte> block,
                                            uint64_t rows) {
    std::vector<uint8_t> nulls;
    if (c.desc.nullable) {
        size_t bitmap_length = (rows + 7) / 8;
        auto decoded = decode_nulls(block.first(bitmap_length), rows);
        if (!decoded) {
            return decoded.error();
        }
        nulls = std::move(*decoded);
        block = block.subspan(bitmap_length);
    }
    bool nullable = c.desc.nullable;
    switch (physical_of(c.desc.type.kind)) {
    case physical_type::boolean: return decode_fixed<uint8_t>(nullable, std::move(nulls), block, rows);
    case physical_type::int8: return decode_fixed<int8_t>(nullable, std::move(nulls), block, rows);
    case physical_type::int16: return decode_fixed<int16_t>(nullable, std::move(nulls), block, rows);
    case physical_type::int32: return decode_fixed<int32_t>(nullable, std::move(nulls), block, rows);
    case physical_type::int64: return decode_fixed<int64_t>(nullable, std::move(nulls), block, rows);
    case physical_type::int128: return decode_fixed<int128>(nullable, std::move(nulls), block, rows);
    case physical_type::float32: return decode_fixed<float>(nullable, std::move(nulls), block, rows);
    case physical_type::float64: return decode_fixed<double>(nullable, std::move(nulls), block, rows);
    case physical_type::bytes: {
        std::vector<uint64_t> offsets(rows + 1);
        std::memcpy(offsets.data(), block.data(), offsets.size() * 8);
        auto text = block.subspan(offsets.size() * 8);
        if (offsets.back() != text.size()) {
            return make_error(storage_errc::corrupt_data, fmt::format("string bytes end at {}, the block holds {}",
                                                                      offsets.back(), text.size()));
        }
        std::string bytes(reinterpret_cast<const char*>(text.data()), text.size());
        return column_vector::decode_strings(nullable, std::move(offsets), std::move(bytes), std::move(nulls));
    }
    }
    return make_error(storage_errc::corrupt_data, "unknown physical type");
}

}  // namespace

storage_result<column_batch> decode_segment(std::string_view path, std::span<const std::byte> file) {
    if (file.size() < segment_header_size + segment_trailer_size) {
        return corrupt(path, fmt::format("too short ({} bytes) to be a segment", file.size()));
    }
    auto t = parse_trailer(path, file.last(segment_trailer_size), file.size());
    if (!t) {
        return t.error();
    }
    uint64_t computed = XXH3_64bits(file.data(), file.size() - 16);
    if (computed != t->file_checksum) {
        return corrupt(path, fmt::format("checksum mismatch (stored {:#018x}, computed {:#018x})",
                                         t->file_checksum, computed));
    }
    auto footer_bytes = file.subspan(t->footer_offset, t->footer_length);
    if (XXH3_64bits(footer_bytes.data(), footer_bytes.size()) != t->footer_checksum) {
        return corrupt(path, "footer checksum mismatch");
    }
    if (auto h = check_header(path, file.first(segment_header_size)); !h) {
        return h.error();
    }
    auto footer = parse_footer(path, footer_bytes, *t, file.size());
    if (!footer) {
        return footer.error();
    }
    std::vector<column_desc> schema;
    std::vector<column_vector> columns;
    for (const auto& c : footer->columns) {
        auto column = decode_column(c, file.subspan(c.block_offset, c.block_length), footer->row_count);
        if (!column) {
            return corrupt(path, fmt::format("column {}: {}", c.desc.name, column.error().message));
        }
        columns.push_back(std::move(*column));
        if (columns.back().null_count() != c.null_count) {
            return corrupt(path, fmt::format("column {}: {} NULLs, the footer says {}", c.desc.name,
                                             columns.back().null_count(), c.null_count));
        }
        schema.push_back(c.desc);
    }
    // Decoded by the footer's own schema and row count, they fit it; adopt() still checks, and
    // answers with a value rather than a throw.
    auto batch = column_batch::adopt(std::move(schema), std::move(columns));
    if (!batch) {
        return corrupt(path, batch.error().message);
    }
    return batch;
}

io::task<storage_result<column_batch>> read_segment(std::string path) {
    auto st = co_await io::statx(AT_FDCWD, path);
    if (!st) {
        co_return read_error(path, st.error(), "stat");
    }
    uint64_t size = st->stx_size;
    // O_DIRECT where the file system takes it: the device writes straight into our buffer
    // (aligned, and rounded up to whole blocks; the file's end is a short read).
    auto f = co_await io::open_file(path, O_RDONLY, 0, io::direct_mode::preferred);
    if (!f) {
        co_return read_error(path, f.error(), "open");
    }
    size_t capacity = (size + io::direct_io_alignment - 1) / io::direct_io_alignment * io::direct_io_alignment;
    std::unique_ptr<std::byte, void (*)(void*)> data(
        static_cast<std::byte*>(std::aligned_alloc(io::direct_io_alignment, std::max(capacity, io::direct_io_alignment))),
        &std::free);
    if (!data) {
        auto closed = co_await f->close();
        (void)closed;
        co_return read_error(path, std::make_error_code(std::errc::not_enough_memory), "allocate");
    }
    // Not zero-filled: every byte is read over.
    std::span<std::byte> buffer(data.get(), f->direct() ? capacity : size);
    auto n = co_await io::read_fully(*f, buffer, 0);
    auto closed = co_await f->close();
    if (!n) {
        co_return read_error(path, n.error(), "read");
    }
    if (!closed) {
        co_return read_error(path, closed.error(), "close");
    }
    if (*n != size) {
        co_return storage_error{storage_errc::corrupt_data,
                                fmt::format("segment {} is corrupt: {} bytes read of {}", path, *n, size)};
    }
    co_return decode_segment(path, buffer.first(size));
}

io::task<storage_result<segment_footer>> read_segment_footer(std::string path) {
    auto f = co_await io::open_file(path, O_RDONLY);
    if (!f) {
        co_return read_error(path, f.error(), "open");
    }
    auto st = co_await io::statx(AT_FDCWD, path);
    if (!st) {
        co_return read_error(path, st.error(), "stat");
    }
    uint64_t size = st->stx_size;
    if (size < segment_header_size + segment_trailer_size) {
        co_return corrupt(path, fmt::format("too short ({} bytes) to be a segment", size));
    }
    std::vector<std::byte> tail(segment_trailer_size);
    std::span<std::byte> tail_span(tail);
    auto n = co_await io::read_fully(*f, tail_span, size - segment_trailer_size);
    if (!n) {
        co_return read_error(path, n.error(), "read");
    }
    if (*n != tail.size()) {
        co_return corrupt(path, "truncated while being read");
    }
    auto t = parse_trailer(path, tail, size);
    if (!t) {
        co_return t.error();
    }
    std::vector<std::byte> footer_bytes(t->footer_length);
    std::span<std::byte> footer_span(footer_bytes);
    n = co_await io::read_fully(*f, footer_span, t->footer_offset);
    if (!n) {
        co_return read_error(path, n.error(), "read");
    }
    std::vector<std::byte> header(segment_header_size);
    std::span<std::byte> header_span(header);
    auto h = co_await io::read_fully(*f, header_span, 0);
    if (!h) {
        co_return read_error(path, h.error(), "read");
    }
    auto closed = co_await f->close();
    if (!closed) {
        co_return read_error(path, closed.error(), "close");
    }
    if (*n != footer_bytes.size() || *h != header.size()) {
        co_return corrupt(path, "truncated while being read");
    }
    if (XXH3_64bits(footer_bytes.data(), footer_bytes.size()) != t->footer_checksum) {
        co_return corrupt(path, "footer checksum mismatch");
    }
    if (auto checked = check_header(path, header); !checked) {
        co_return checked.error();
    }
    co_return parse_footer(path, footer_bytes, *t, size);
}

struct segment_stream_check::state {
    std::string name;
    uint64_t size = 0;
    uint64_t expected = 0;
    uint64_t fed = 0;
    uint64_t tail_from = 0;  ///< the offset of the first byte kept in `tail`
    std::array<std::byte, segment_header_size> header{};
    std::vector<std::byte> tail;
    std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> digest{XXH3_createState(), &XXH3_freeState};
};

segment_stream_check::segment_stream_check(std::string name, uint64_t size, uint64_t expected_checksum,
                                           uint64_t tail_limit)
    : _state(std::make_unique<state>()) {
    _state->name = std::move(name);
    _state->size = size;
    _state->expected = expected_checksum;
    _state->tail_from = size - std::min({size, tail_limit, segment_check_tail_bytes});
    _state->tail.reserve(size - _state->tail_from);
    XXH3_64bits_reset(_state->digest.get());
}

segment_stream_check::~segment_stream_check() = default;
segment_stream_check::segment_stream_check(segment_stream_check&&) noexcept = default;
segment_stream_check& segment_stream_check::operator=(segment_stream_check&&) noexcept = default;

void segment_stream_check::feed(std::span<const std::byte> bytes) {
    state& s = *_state;
    uint64_t at = s.fed;
    s.fed += bytes.size();
    if (s.fed > s.size) {
        return;  // finish() refuses it; nothing past `size` is kept
    }
    if (at < segment_header_size) {
        size_t n = std::min<size_t>(bytes.size(), segment_header_size - at);
        std::memcpy(s.header.data() + at, bytes.data(), n);
    }
    // The file checksum covers every byte before its own 8 and the 8 of the tail magic.
    uint64_t covered_end = s.size >= 16 ? s.size - 16 : 0;
    if (at < covered_end) {
        size_t n = std::min<uint64_t>(bytes.size(), covered_end - at);
        XXH3_64bits_update(s.digest.get(), bytes.data(), n);
    }
    if (s.fed > s.tail_from) {
        uint64_t skip = at < s.tail_from ? s.tail_from - at : 0;
        s.tail.insert(s.tail.end(), bytes.begin() + static_cast<ptrdiff_t>(skip), bytes.end());
    }
}

storage_result<void> segment_stream_check::finish() const {
    const state& s = *_state;
    if (s.fed != s.size) {
        return corrupt(s.name, fmt::format("{} bytes where {} were expected", s.fed, s.size));
    }
    if (s.size < segment_header_size + segment_trailer_size) {
        return corrupt(s.name, fmt::format("too short ({} bytes) to be a segment", s.size));
    }
    std::span<const std::byte> tail(s.tail);
    auto t = parse_trailer(s.name, tail.last(segment_trailer_size), s.size);
    if (!t) {
        return t.error();
    }
    if (t->footer_offset < s.tail_from) {
        return corrupt(s.name, fmt::format("its footer of {} bytes is longer than a segment's footer can be",
                                           t->footer_length));
    }
    auto footer_bytes = tail.subspan(t->footer_offset - s.tail_from, t->footer_length);
    if (XXH3_64bits(footer_bytes.data(), footer_bytes.size()) != t->footer_checksum) {
        return corrupt(s.name, "footer checksum mismatch");
    }
    if (auto checked = check_header(s.name, s.header); !checked) {
        return checked.error();
    }
    if (auto footer = parse_footer(s.name, footer_bytes, *t, s.size); !footer) {
        return footer.error();
    }
    uint64_t computed = XXH3_64bits_digest(s.digest.get());
    if (computed != t->file_checksum) {
        return corrupt(s.name, fmt::format("checksum mismatch (stored {:#018x}, computed {:#018x})", t->file_checksum,
                                           computed));
    }
    if (t->file_checksum != s.expected) {
        return corrupt(s.name, fmt::format("its checksum {:#018x} is not the {:#018x} the backup recorded",
                                           t->file_checksum, s.expected));
    }
    return {};
}

bool segment_stream_check::footer_beyond_tail() const {
    const state& s = *_state;
    if (s.fed != s.size || s.tail.size() < segment_trailer_size ||
        s.tail_from <= s.size - std::min(s.size, segment_check_tail_bytes)) {
        return false;  // finish() says what is wrong, or the tail is as long as a footer may be
    }
    std::span<const std::byte> tail(s.tail);
    auto t = parse_trailer(s.name, tail.last(segment_trailer_size), s.size);
    return t && t->footer_offset < s.tail_from;
}

io::task<storage_result<void>> verify_segment_file(std::string path, uint64_t expected_checksum) {
    auto f = co_await io::open_file(path, O_RDONLY);
    if (!f) {
        co_return read_error(path, f.error(), "open");
    }
    auto st = co_await io::statx(AT_FDCWD, path);
    if (!st) {
        (void)co_await f->close();
        co_return read_error(path, st.error(), "stat");
    }
    uint64_t size = st->stx_size;
    segment_stream_check check(path, size, expected_checksum);
    // At most 1 MiB, and no more than the file: most segments are small.
    std::vector<std::byte> buffer(std::min<uint64_t>(uint64_t{1} << 20, std::max<uint64_t>(size, 1)));
    for (uint64_t offset = 0; offset < size;) {
        std::span<std::byte> chunk(buffer.data(), std::min<uint64_t>(buffer.size(), size - offset));
        auto n = co_await io::read_fully(*f, chunk, offset);
        if (!n) {
            (void)co_await f->close();
            co_return read_error(path, n.error(), "read");
        }
        if (*n != chunk.size()) {
            (void)co_await f->close();
            co_return corrupt(path, "truncated while being read");
        }
        check.feed(chunk);
        offset += chunk.size();
    }
    (void)co_await f->close();
    co_return check.finish();
}

}  // namespace tv::storage
