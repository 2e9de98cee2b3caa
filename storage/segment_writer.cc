// SPDX-License-Identifier: Apache-2.0
// Segment writer: column statistics, block and footer encoding, and the durable publish.
#include "storage/segment_writer.hh"

#include "io/error.hh"
#include "io/durable_file.hh"
#include "io/file.hh"
#include "io/ops.hh"

#define XXH_STATIC_LINKING_ONLY  // the streaming XXH3 state API
#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>  // RENAME_NOREPLACE
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include <unistd.h>

namespace tv::storage {

namespace {

template <class T>
void put_le(std::string& out, T v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));  // the host is little-endian (segment_format.hh)
    out.append(bytes, sizeof(T));
}

template <class T>
std::string encode_fixed(T v) {
    std::string out;
    put_le(out, v);
    return out;
}

/// A key whose signed order is Java's Double.compare order: -0.0 < +0.0, NaN above +inf.
template <class T>
auto float_order_key(T v) {
    using bits_t = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
    if (std::isnan(v)) {
        v = std::numeric_limits<T>::quiet_NaN();
    }
    auto bits = std::bit_cast<bits_t>(v);
    // Negative floats order backwards as integers: flip every bit but the sign.
    return bits < 0 ? static_cast<bits_t>(bits ^ std::numeric_limits<bits_t>::max()) : bits;
}

template <class T>
bool stat_less(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
        return float_order_key(a) < float_order_key(b);
    } else {
        return a < b;
    }
}

template <class T>
void fixed_stats(const column_vector& col, segment_column_meta& meta) {
    auto values = col.values<T>();
    bool found = false;
    T lo{};
    T hi{};
    for (size_t row = 0; row < values.size(); ++row) {
        if (col.is_null(row)) {
            continue;
        }
        T v = values[row];
        if (!found) {
            lo = hi = v;
            found = true;
        } else if (stat_less(v, lo)) {
            lo = v;
        } else if (stat_less(hi, v)) {
            hi = v;
        }
    }
    if (!found) {
        return;
    }
    if constexpr (std::is_floating_point_v<T>) {
        // One NaN in the footer whatever payloads the rows carry.
        lo = std::isnan(lo) ? std::numeric_limits<T>::quiet_NaN() : lo;
        hi = std::isnan(hi) ? std::numeric_limits<T>::quiet_NaN() : hi;
    }
    meta.has_min_max = true;
    meta.min = encode_fixed(lo);
    meta.max = encode_fixed(hi);
}

void string_stats(const column_vector& col, segment_column_meta& meta) {
    bool found = false;
    std::string_view lo;
    std::string_view hi;
    for (size_t row = 0; row < col.size(); ++row) {
        if (col.is_null(row)) {
            continue;
        }
        std::string_view v = col.string_at(row);
        if (!found) {
            lo = hi = v;
            found = true;
        } else if (v < lo) {  // char_traits<char>::compare orders bytes as unsigned, as memcmp
            lo = v;
        } else if (hi < v) {
            hi = v;
        }
    }
    if (!found) {
        return;
    }
    meta.has_min_max = true;
    meta.min = std::string(lo.substr(0, segment_stat_max_bytes));
    meta.min_truncated = lo.size() > segment_stat_max_bytes;
    meta.max = std::string(hi);
    if (hi.size() > segment_stat_max_bytes) {
        // A prefix is below the value; bumping its last byte that can be bumped puts it above.
        std::string bound(hi.substr(0, segment_stat_max_bytes));
        while (!bound.empty() && static_cast<uint8_t>(bound.back()) == 0xFF) {
            bound.pop_back();
        }
        if (!bound.empty()) {
            bound.back() = static_cast<char>(static_cast<uint8_t>(bound.back()) + 1);
            meta.max = std::move(bound);
            meta.max_truncated = true;
        }
    }
}

void column_stats(const column_vector& col, segment_column_meta& meta) {
    switch (col.type()) {
    case physical_type::boolean: fixed_stats<uint8_t>(col, meta); break;
    case physical_type::int8: fixed_stats<int8_t>(col, meta); break;
    case physical_type::int16: fixed_stats<int16_t>(col, meta); break;
    case physical_type::int32: fixed_stats<int32_t>(col, meta); break;
    case physical_type::int64: fixed_stats<int64_t>(col, meta); break;
    case physical_type::int128: fixed_stats<int128>(col, meta); break;
    case physical_type::float32: fixed_stats<float>(col, meta); break;
    case physical_type::float64: fixed_stats<double>(col, meta); break;
    case physical_type::bytes: string_stats(col, meta); break;
    }
}

uint64_t bitmap_bytes(uint64_t rows) {
    return (rows + 7) / 8;
}

/// The block's values (after the bitmap) as one span, or for strings the offsets; the string
/// bytes follow separately.
std::span<const std::byte> value_bytes(const column_vector& col) {
    switch (col.type()) {
    case physical_type::boolean: return std::as_bytes(col.values<uint8_t>());
    case physical_type::int8: return std::as_bytes(col.values<int8_t>());
    case physical_type::int16: return std::as_bytes(col.values<int16_t>());
    case physical_type::int32: return std::as_bytes(col.values<int32_t>());
    case physical_type::int64: return std::as_bytes(col.values<int64_t>());
    case physical_type::int128: return std::as_bytes(col.values<int128>());
    case physical_type::float32: return std::as_bytes(col.values<float>());
    case physical_type::float64: return std::as_bytes(col.values<double>());
    case physical_type::bytes: return std::as_bytes(col.offsets());
    }
    return {};
}

std::vector<std::byte> null_bitmap(const column_vector& col) {
    std::vector<std::byte> bits(bitmap_bytes(col.size()));
    auto nulls = col.nulls();
    for (size_t row = 0; row < nulls.size(); ++row) {
        if (nulls[row] != 0) {
            bits[row / 8] |= std::byte{static_cast<uint8_t>(1u << (row % 8))};
        }
    }
    return bits;
}

std::string encode_footer(const segment_footer& f) {
    std::string out;
    put_le(out, f.schema_version);
    put_le(out, f.row_count);
    put_le(out, static_cast<uint32_t>(f.columns.size()));
    for (const auto& c : f.columns) {
        put_le(out, static_cast<uint16_t>(c.desc.name.size()));
        out.append(c.desc.name);
        put_le(out, segment_type_tag(c.desc.type.kind));
        put_le(out, static_cast<uint8_t>(c.desc.nullable ? 1 : 0));
        put_le(out, static_cast<uint8_t>(c.desc.type.precision));
        put_le(out, static_cast<uint8_t>(c.desc.type.scale));
        put_le(out, static_cast<uint32_t>(c.desc.type.length));
        put_le(out, c.block_offset);
        put_le(out, c.block_length);
        put_le(out, c.null_count);
        uint8_t flags = (c.has_min_max ? segment_stats_present : 0) |
                        (c.min_truncated ? segment_stats_min_truncated : 0) |
                        (c.max_truncated ? segment_stats_max_truncated : 0);
        put_le(out, flags);
        if (c.has_min_max) {
            put_le(out, static_cast<uint32_t>(c.min.size()));
            out.append(c.min);
            put_le(out, static_cast<uint32_t>(c.max.size()));
            out.append(c.max);
        }
    }
    return out;
}

/// Aligned staging buffers, kept per thread for reuse: fresh memory costs a page fault per
/// 4 KiB, reused memory nothing. A handful per loop thread at most.
class staging_cache {
public:
    static constexpr size_t bytes = size_t{4} << 20;  // a multiple of the O_DIRECT alignment

    static std::byte* take() {
        auto& free = list();
        if (!free.empty()) {
            std::byte* b = free.back();
            free.pop_back();
            return b;
        }
        void* p = std::aligned_alloc(io::direct_io_alignment, bytes);
        if (p == nullptr) {
            throw std::bad_alloc();
        }
        return static_cast<std::byte*>(p);
    }

    static void give(std::byte* b) {
        auto& free = list();
        if (free.size() < 4) {
            free.push_back(b);
        } else {
            std::free(b);
        }
    }

private:
    struct holder {
        std::vector<std::byte*> buffers;
        ~holder() {
            for (std::byte* b : buffers) {
                std::free(b);
            }
        }
    };
    static std::vector<std::byte*>& list() {
        thread_local holder h;
        return h.buffers;
    }
};

/// Appends to the temp file through an aligned staging buffer, hashing every byte on the way.
/// Buffered files: spans larger than the buffer go straight from the batch's memory. O_DIRECT
/// files: everything is copied into the buffer and written a full buffer at a time; the last
/// block is padded with zeros, which the caller cuts off with ftruncate.
class segment_sink {
public:
    segment_sink(int fd, bool direct)
        : _fd(fd), _direct(direct), _buffer(staging_cache::take()), _state(XXH3_createState(), &XXH3_freeState) {
        if (!_state) {
            staging_cache::give(_buffer);
            throw std::bad_alloc();
        }
        XXH3_64bits_reset(_state.get());
    }
    ~segment_sink() { staging_cache::give(_buffer); }
    segment_sink(const segment_sink&) = delete;
    segment_sink& operator=(const segment_sink&) = delete;

    uint64_t offset() const { return _flushed + _used; }
    uint64_t digest() const { return XXH3_64bits_digest(_state.get()); }

    io::task<io::result<void>> append(std::span<const std::byte> bytes, bool hashed = true) {
        if (hashed) {
            XXH3_64bits_update(_state.get(), bytes.data(), bytes.size());
        }
        if (!_direct && bytes.size() > staging_cache::bytes) {
            auto flushed = co_await write_staged();
            if (!flushed) {
                co_return flushed;
            }
            auto written = co_await io::write_fully(_fd, bytes, _flushed);
            if (!written) {
                co_return written;
            }
            _flushed += bytes.size();
            co_return io::result<void>{};
        }
        while (!bytes.empty()) {
            size_t n = std::min(bytes.size(), staging_cache::bytes - _used);
            std::memcpy(_buffer + _used, bytes.data(), n);
            _used += n;
            bytes = bytes.subspan(n);
            if (_used == staging_cache::bytes) {
                auto flushed = co_await write_staged();
                if (!flushed) {
                    co_return flushed;
                }
            }
        }
        co_return io::result<void>{};
    }

    /// Writes what is staged; on an O_DIRECT file the tail is padded to the alignment (the
    /// file then ends past offset(): truncate it to offset()).
    io::task<io::result<void>> flush() {
        if (_direct && _used % io::direct_io_alignment != 0) {
            size_t padded = (_used + io::direct_io_alignment - 1) / io::direct_io_alignment * io::direct_io_alignment;
            std::memset(_buffer + _used, 0, padded - _used);
            std::span<const std::byte> pending(_buffer, padded);
            auto written = co_await io::write_fully(_fd, pending, _flushed);
            if (!written) {
                co_return written;
            }
            _flushed += _used;
            _used = 0;
            co_return io::result<void>{};
        }
        co_return co_await write_staged();
    }

private:
    io::task<io::result<void>> write_staged() {
        if (_used == 0) {
            co_return io::result<void>{};
        }
        std::span<const std::byte> pending(_buffer, _used);
        auto written = co_await io::write_fully(_fd, pending, _flushed);
        if (!written) {
            co_return written;
        }
        _flushed += _used;
        _used = 0;
        co_return io::result<void>{};
    }

    int _fd;
    bool _direct;
    std::byte* _buffer;
    size_t _used = 0;
    uint64_t _flushed = 0;
    // Heap-allocated: the state wants 64-byte alignment, which a coroutine frame does not give.
    std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> _state;
};

storage_error write_error(const std::string& path, const std::error_code& ec, std::string_view what) {
    return storage_error{storage_errc::io_error,
                         fmt::format("segment {} could not be written: {}", path, io::describe(ec, what))};
}

/// Writes header, blocks, footer and trailer; yields the file checksum.
io::task<io::result<uint64_t>> write_body(int fd, bool direct, const column_batch& batch, std::string footer_bytes,
                                          uint64_t footer_checksum) {
    segment_sink sink(fd, direct);
    std::string header(segment_magic);
    put_le(header, segment_format_version);
    auto header_span = std::as_bytes(std::span<const char>(header));
    if (auto r = co_await sink.append(header_span); !r) {
        co_return r.error();
    }
    for (size_t i = 0; i < batch.num_columns(); ++i) {
        const column_vector& col = batch.column(i);
        if (col.nullable()) {
            std::vector<std::byte> bits = null_bitmap(col);
            std::span<const std::byte> bits_span(bits);
            if (auto r = co_await sink.append(bits_span); !r) {
                co_return r.error();
            }
        }
        std::span<const std::byte> values = value_bytes(col);
        if (auto r = co_await sink.append(values); !r) {
            co_return r.error();
        }
        if (col.type() == physical_type::bytes) {
            auto text = std::as_bytes(std::span<const char>(col.bytes()));
            if (auto r = co_await sink.append(text); !r) {
                co_return r.error();
            }
        }
    }
    std::string trailer = std::move(footer_bytes);
    size_t footer_length = trailer.size();
    put_le(trailer, static_cast<uint32_t>(footer_length));
    put_le(trailer, footer_checksum);
    auto trailer_span = std::as_bytes(std::span<const char>(trailer));
    if (auto r = co_await sink.append(trailer_span); !r) {
        co_return r.error();
    }
    uint64_t checksum = sink.digest();
    std::string tail;
    put_le(tail, checksum);
    tail.append(segment_tail_magic);
    auto tail_span = std::as_bytes(std::span<const char>(tail));
    if (auto r = co_await sink.append(tail_span, false); !r) {
        co_return r.error();
    }
    if (auto r = co_await sink.flush(); !r) {
        co_return r.error();
    }
    co_return checksum;
}

}  // namespace

segment_footer plan_segment(const column_batch& batch, uint32_t schema_version) {
    segment_footer f;
    f.schema_version = schema_version;
    f.row_count = batch.num_rows();
    uint64_t offset = segment_header_size;
    for (size_t i = 0; i < batch.num_columns(); ++i) {
        const column_vector& col = batch.column(i);
        segment_column_meta meta;
        meta.desc = batch.schema()[i];
        meta.block_offset = offset;
        meta.block_length = (col.nullable() ? bitmap_bytes(col.size()) : 0) + value_bytes(col).size() +
                            (col.type() == physical_type::bytes ? col.bytes().size() : 0);
        meta.null_count = col.null_count();
        column_stats(col, meta);
        offset += meta.block_length;
        f.columns.push_back(std::move(meta));
    }
    return f;
}

io::task<storage_result<segment_info>> write_segment(std::string path, const column_batch& batch,
                                                     uint32_t schema_version) {
    segment_footer footer = plan_segment(batch, schema_version);
    for (const auto& c : footer.columns) {
        if (c.desc.name.size() > std::numeric_limits<uint16_t>::max()) {
            co_return storage_error{storage_errc::invalid_batch,
                                    fmt::format("segment {} could not be written: column name too long", path)};
        }
    }
    std::string footer_bytes = encode_footer(footer);
    uint64_t footer_checksum = XXH3_64bits(footer_bytes.data(), footer_bytes.size());
    uint64_t blocks_end = footer.columns.empty()
                              ? segment_header_size
                              : footer.columns.back().block_offset + footer.columns.back().block_length;
    uint64_t file_size = blocks_end + footer_bytes.size() + segment_trailer_size;

    // O_DIRECT where the file system takes it: the bytes go from our staging buffer to the
    // device without a page-cache copy (the tail block is padded, then cut by set_size).
    auto created = co_await io::durable_file::create(path, io::direct_mode::preferred);
    if (!created) {
        co_return write_error(path, created.error(), "create a temporary file for " + path);
    }
    io::durable_file f = std::move(*created);
    auto body = co_await write_body(f.fd(), f.file().direct(), batch, std::move(footer_bytes), footer_checksum);
    // The message names the temporary file, which abandon() forgets: build it first.
    if (!body) {
        storage_error failed = write_error(path, body.error(), "write " + f.temp_path());
        co_await f.abandon();
        co_return failed;
    }
    if (f.file().direct()) {
        if (auto sized = f.set_size(file_size); !sized) {
            storage_error failed = write_error(path, sized.error(), "truncate " + f.temp_path());
            co_await f.abandon();
            co_return failed;
        }
    }
    uint64_t checksum = *body;
    auto committed = co_await f.commit(io::replace_mode::no_replace);
    if (!committed) {
        if (committed.error() == std::errc::file_exists) {
            co_return storage_error{storage_errc::already_exists,
                                    fmt::format("segment {} already exists; published segments are never replaced",
                                                path)};
        }
        if (f.renamed()) {
            // Renamed, but the directory fsync failed: not durable, so not published. Take it
            // back rather than leave a file that may vanish.
            auto removed = co_await io::unlinkat(AT_FDCWD, path);
            (void)removed;
        }
        co_return write_error(path, committed.error(), f.renamed() ? "fsync the directory of " + path
                                                                      : "fdatasync and rename " + path);
    }

    segment_info info;
    info.path = std::move(path);
    info.size = file_size;
    info.row_count = footer.row_count;
    info.checksum = checksum;
    co_return info;
}

}  // namespace tv::storage
