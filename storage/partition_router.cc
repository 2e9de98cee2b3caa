// SPDX-License-Identifier: Apache-2.0
// Partition routing and the bucket hash.
#include "storage/partition_router.hh"

#include "storage/values.hh"

#define XXH_INLINE_ALL  // the per-row hash is the load's hot loop; same function as libxxhash
#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tv::storage {

namespace {

template <class T>
T canonical_float(T v) {
    if (std::isnan(v)) {
        return std::numeric_limits<T>::quiet_NaN();
    }
    return v == 0 ? T(0) : v;
}

inline uint64_t hash_null(uint64_t seed) {
    return XXH3_64bits_withSeed(nullptr, 0, seed ^ bucket_null_marker);
}

template <class T>
void hash_fixed(const column_vector& col, std::span<uint64_t> hashes) {
    std::span<const T> values = col.values<T>();
    std::span<const uint8_t> nulls = col.nulls();
    bool any_null = col.null_count() != 0;
    for (size_t i = 0; i < hashes.size(); ++i) {
        if (any_null && nulls[i] != 0) {
            hashes[i] = hash_null(hashes[i]);
            continue;
        }
        T v = values[i];
        if constexpr (std::is_floating_point_v<T>) {
            v = canonical_float(v);
        }
        hashes[i] = XXH3_64bits_withSeed(&v, sizeof(T), hashes[i]);
    }
}

/// Numbers of any integer-like physical type as int128, for comparisons with bounds.
int128 int_at(const column_vector& col, size_t row) {
    switch (col.type()) {
    case physical_type::boolean: return col.values<uint8_t>()[row];
    case physical_type::int8: return col.values<int8_t>()[row];
    case physical_type::int16: return col.values<int16_t>()[row];
    case physical_type::int32: return col.values<int32_t>()[row];
    case physical_type::int64: return col.values<int64_t>()[row];
    case physical_type::int128: return col.values<int128>()[row];
    default: return 0;
    }
}

double float_at(const column_vector& col, size_t row) {
    return col.type() == physical_type::float32 ? col.values<float>()[row] : col.values<double>()[row];
}

enum class key_kind { integer, floating, bytes };

key_kind kind_of(physical_type p) {
    switch (p) {
    case physical_type::float32:
    case physical_type::float64: return key_kind::floating;
    case physical_type::bytes: return key_kind::bytes;
    default: return key_kind::integer;
    }
}

template <class T>
int order(const T& a, const T& b) {
    return a < b ? -1 : b < a ? 1 : 0;
}

void append_raw(std::string& out, const void* p, size_t n) {
    out.append(static_cast<const char*>(p), n);
}

}  // namespace

uint64_t hash_value(const cell& value, uint64_t seed) {
    return std::visit(
        [&](const auto& v) -> uint64_t {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return hash_null(seed);
            } else if constexpr (std::is_same_v<T, std::string_view>) {
                return XXH3_64bits_withSeed(v.data(), v.size(), seed);
            } else if constexpr (std::is_same_v<T, bool>) {
                uint8_t b = v ? 1 : 0;
                return XXH3_64bits_withSeed(&b, 1, seed);
            } else if constexpr (std::is_floating_point_v<T>) {
                T c = canonical_float(v);
                return XXH3_64bits_withSeed(&c, sizeof(T), seed);
            } else {
                return XXH3_64bits_withSeed(&v, sizeof(T), seed);
            }
        },
        value);
}

void hash_column(const column_vector& col, std::span<uint64_t> hashes) {
    switch (col.type()) {
    case physical_type::boolean: hash_fixed<uint8_t>(col, hashes); break;
    case physical_type::int8: hash_fixed<int8_t>(col, hashes); break;
    case physical_type::int16: hash_fixed<int16_t>(col, hashes); break;
    case physical_type::int32: hash_fixed<int32_t>(col, hashes); break;
    case physical_type::int64: hash_fixed<int64_t>(col, hashes); break;
    case physical_type::int128: hash_fixed<int128>(col, hashes); break;
    case physical_type::float32: hash_fixed<float>(col, hashes); break;
    case physical_type::float64: hash_fixed<double>(col, hashes); break;
    case physical_type::bytes: {
        auto offsets = col.offsets();
        const char* bytes = col.bytes().data();
        for (size_t i = 0; i < hashes.size(); ++i) {
            if (col.is_null(i)) {
                hashes[i] = hash_null(hashes[i]);
            } else {
                hashes[i] = XXH3_64bits_withSeed(bytes + offsets[i], offsets[i + 1] - offsets[i], hashes[i]);
            }
        }
        break;
    }
    }
}

uint32_t bucket_of(std::span<const cell> values, uint32_t buckets) {
    uint64_t h = 0;
    for (const auto& v : values) {
        h = hash_value(v, h);
    }
    return buckets == 0 ? 0 : static_cast<uint32_t>(h % buckets);
}

storage_result<partition_router> partition_router::make(partition_kind kind, std::vector<size_t> columns,
                                                        std::vector<column_type> types,
                                                        const std::vector<const partition*>& partitions,
                                                        std::vector<bool> allowed) {
    partition_router r;
    r._kind = kind;
    r._columns = std::move(columns);
    r._types = std::move(types);
    r._allowed = std::move(allowed);
    storage_error damaged;
    auto parse_bound_value = [&](size_t c, const std::string& text, bound_value& out) {
        if (text == min_value || text == max_value) {
            out.rank = text == min_value ? -1 : 1;
            return true;
        }
        auto v = parse_typed(r._types[c], text);
        if (!v) {
            damaged = make_error(storage_errc::corrupt_metadata, std::move(v.error().message));
            return false;
        }
        out.rank = 0;
        cell value = v->as_cell();
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, std::string_view>) {
                    out.s = std::string(x);
                } else if constexpr (std::is_floating_point_v<T>) {
                    out.f = x;
                } else if constexpr (!std::is_same_v<T, std::monostate>) {
                    out.i = static_cast<int128>(x);
                }
            },
            value);
        return true;
    };
    for (uint32_t p = 0; p < partitions.size(); ++p) {
        const partition& part = *partitions[p];
        if (kind == partition_kind::range) {
            range_entry e;
            e.partition = p;
            for (size_t c = 0; c < r._columns.size(); ++c) {
                bound_value lo;
                bound_value hi;
                lo.rank = -1;  // a short key is filled with MINVALUE, as the catalog does
                if (c < part.lower.size() && !parse_bound_value(c, part.lower[c], lo)) {
                    return damaged;
                }
                if (c < part.upper.size() && !parse_bound_value(c, part.upper[c], hi)) {
                    return damaged;
                }
                if (c >= part.upper.size()) {
                    hi.rank = -1;
                }
                e.lower.push_back(std::move(lo));
                e.upper.push_back(std::move(hi));
            }
            r._ranges.push_back(std::move(e));
        } else if (kind == partition_kind::list) {
            for (const auto& tuple : part.values) {
                std::string key;
                for (size_t c = 0; c < r._columns.size() && c < tuple.size(); ++c) {
                    bound_value v;
                    if (!parse_bound_value(c, tuple[c], v)) {
                        return damaged;
                    }
                    switch (kind_of(physical_of(r._types[c].kind))) {
                    case key_kind::integer: append_raw(key, &v.i, sizeof(v.i)); break;
                    case key_kind::floating: append_raw(key, &v.f, sizeof(v.f)); break;
                    case key_kind::bytes: {
                        uint64_t n = v.s.size();
                        append_raw(key, &n, sizeof(n));
                        key += v.s;
                        break;
                    }
                    }
                }
                r._values.emplace(std::move(key), p);
            }
        }
    }
    auto compare_bounds = [&](const bound& a, const bound& b) {
        for (size_t c = 0; c < a.size(); ++c) {
            const bound_value& x = a[c];
            const bound_value& y = b[c];
            if (x.rank != 0 || y.rank != 0) {
                if (int o = order(x.rank, y.rank); o != 0) {
                    return o;
                }
                continue;
            }
            int o = 0;
            switch (kind_of(physical_of(r._types[c].kind))) {
            case key_kind::integer: o = order(x.i, y.i); break;
            case key_kind::floating: o = order(x.f, y.f); break;
            case key_kind::bytes: o = order(x.s, y.s); break;
            }
            if (o != 0) {
                return o;
            }
        }
        return 0;
    };
    std::sort(r._ranges.begin(), r._ranges.end(),
              [&](const range_entry& a, const range_entry& b) { return compare_bounds(a.upper, b.upper) < 0; });
    physical_type p = r._columns.size() == 1 ? physical_of(r._types[0].kind) : physical_type::bytes;
    r._fast = p == physical_type::int8 || p == physical_type::int16 || p == physical_type::int32 ||
              p == physical_type::int64;
    if (r._fast && kind == partition_kind::range) {
        constexpr int128 lowest = static_cast<int128>(static_cast<unsigned __int128>(1) << 127);
        constexpr int128 highest = ~lowest;
        auto flat = [&](const bound_value& b) { return b.rank < 0 ? lowest : b.rank > 0 ? highest : b.i; };
        for (const auto& e : r._ranges) {
            r._fast_lower.push_back(flat(e.lower[0]));
            r._fast_upper.push_back(flat(e.upper[0]));
        }
    }
    if (r._fast && kind == partition_kind::list) {
        for (uint32_t pi = 0; pi < partitions.size(); ++pi) {
            for (const auto& tuple : partitions[pi]->values) {
                bound_value v;
                if (tuple.empty() || !parse_bound_value(0, tuple[0], v)) {
                    return damaged;
                }
                r._fast_values.emplace(static_cast<int64_t>(v.i), pi);
            }
        }
    }
    return r;
}

std::string partition_router::row_key_text(const column_batch& rows, size_t row) const {
    std::string out = "(";
    for (size_t c = 0; c < _columns.size(); ++c) {
        cell v = rows.get(row, _columns[c]);
        out += (c == 0 ? "" : ", ") + (is_null(v) ? std::string("NULL") : format_typed(_types[c], v));
    }
    return out + ")";
}

std::string partition_router::list_key(const column_batch& rows, size_t row, bool& has_null) const {
    std::string key;
    for (size_t c = 0; c < _columns.size(); ++c) {
        const column_vector& col = rows.column(_columns[c]);
        if (col.is_null(row)) {
            has_null = true;
            return key;
        }
        switch (kind_of(col.type())) {
        case key_kind::integer: {
            int128 v = int_at(col, row);
            append_raw(key, &v, sizeof(v));
            break;
        }
        case key_kind::floating: {
            double v = float_at(col, row);
            append_raw(key, &v, sizeof(v));
            break;
        }
        case key_kind::bytes: {
            std::string_view s = col.string_at(row);
            uint64_t n = s.size();
            append_raw(key, &n, sizeof(n));
            key += s;
            break;
        }
        }
    }
    return key;
}

storage_error partition_router::outside(const column_batch& rows, size_t row) const {
    return make_error(storage_errc::bad_definition,
                      fmt::format("The row is out of partition ranges. Please add a new partition. Partition key: {}",
                                  row_key_text(rows, row)));
}

template <class T>
storage_result<std::vector<uint32_t>> partition_router::route_fast(const column_batch& rows) const {
    const column_vector& col = rows.column(_columns[0]);
    std::span<const T> values = col.values<T>();
    std::span<const uint8_t> nulls = col.nulls();
    bool any_null = col.null_count() != 0;
    size_t n = rows.num_rows();
    std::vector<uint32_t> out(n, 0);
    if (_kind == partition_kind::list) {
        for (size_t row = 0; row < n; ++row) {
            auto it = any_null && nulls[row] != 0 ? _fast_values.end() : _fast_values.find(values[row]);
            if (it == _fast_values.end() || !_allowed[it->second]) {
                return outside(rows, row);
            }
            out[row] = it->second;
        }
        return out;
    }
    constexpr int128 lowest = static_cast<int128>(static_cast<unsigned __int128>(1) << 127);
    size_t last = 0;  // rows tend to come in runs: try the previous range first
    for (size_t row = 0; row < n; ++row) {
        int128 key = any_null && nulls[row] != 0 ? lowest : static_cast<int128>(values[row]);
        size_t i = last;
        if (!(i < _fast_upper.size() && _fast_lower[i] <= key && key < _fast_upper[i])) {
            i = static_cast<size_t>(std::upper_bound(_fast_upper.begin(), _fast_upper.end(), key) - _fast_upper.begin());
            if (i == _fast_upper.size() || key < _fast_lower[i]) {
                return outside(rows, row);
            }
            last = i;
        }
        uint32_t p = _ranges[i].partition;
        if (!_allowed[p]) {
            return outside(rows, row);
        }
        out[row] = p;
    }
    return out;
}

storage_result<std::vector<uint32_t>> partition_router::route(const column_batch& rows) const {
    size_t n = rows.num_rows();
    if (_fast && _kind != partition_kind::none) {
        switch (rows.column(_columns[0]).type()) {
        case physical_type::int8: return route_fast<int8_t>(rows);
        case physical_type::int16: return route_fast<int16_t>(rows);
        case physical_type::int32: return route_fast<int32_t>(rows);
        case physical_type::int64: return route_fast<int64_t>(rows);
        default: break;
        }
    }
    std::vector<uint32_t> out(n, 0);
    if (_kind == partition_kind::none) {
        if (!_allowed.empty() && !_allowed[0] && n != 0) {
            return outside(rows, 0);
        }
        return out;
    }
    if (_kind == partition_kind::list) {
        for (size_t row = 0; row < n; ++row) {
            bool has_null = false;
            std::string key = list_key(rows, row, has_null);
            auto it = has_null ? _values.end() : _values.find(key);
            if (it == _values.end() || !_allowed[it->second]) {
                return outside(rows, row);
            }
            out[row] = it->second;
        }
        return out;
    }
    // RANGE: the first range whose upper bound is above the key, if its lower bound is not
    // above the key. NULL sorts with MINVALUE, so it lands in the range starting at MINVALUE.
    auto compare_row = [&](size_t row, const bound& b) {
        for (size_t c = 0; c < _columns.size(); ++c) {
            const column_vector& col = rows.column(_columns[c]);
            int rank = col.is_null(row) ? -1 : 0;
            if (rank != 0 || b[c].rank != 0) {
                if (int o = order(rank, b[c].rank); o != 0) {
                    return o;
                }
                continue;
            }
            int o = 0;
            switch (kind_of(col.type())) {
            case key_kind::integer: o = order(int_at(col, row), b[c].i); break;
            case key_kind::floating: o = order(float_at(col, row), b[c].f); break;
            case key_kind::bytes: o = order(col.string_at(row), std::string_view(b[c].s)); break;
            }
            if (o != 0) {
                return o;
            }
        }
        return 0;
    };
    for (size_t row = 0; row < n; ++row) {
        auto it = std::partition_point(_ranges.begin(), _ranges.end(),
                                       [&](const range_entry& e) { return compare_row(row, e.upper) >= 0; });
        if (it == _ranges.end() || compare_row(row, it->lower) < 0 || !_allowed[it->partition]) {
            return outside(rows, row);
        }
        out[row] = it->partition;
    }
    return out;
}

}  // namespace tv::storage
