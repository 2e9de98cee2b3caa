// SPDX-License-Identifier: Apache-2.0
// column_batch and column_vector: typed appends, reads and adoption of decoded columns. Decoded
// parts are checked and refused with corrupt_data; the std::invalid_argument throws left are
// for callers passing mismatched parts of their own making, never for data from a file or a user.
#include "storage/column_batch.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tv::storage {

std::string int128_to_string(int128 v) {
    // Work on the magnitude as unsigned so that the minimum value does not overflow.
    auto magnitude = v < 0 ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
    std::string digits;
    do {
        digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
        magnitude /= 10;
    } while (magnitude != 0);
    if (v < 0) {
        digits.push_back('-');
    }
    std::reverse(digits.begin(), digits.end());
    return digits;
}

physical_type physical_of(type_kind k) {
    switch (k) {
    case type_kind::boolean: return physical_type::boolean;
    case type_kind::tinyint: return physical_type::int8;
    case type_kind::smallint: return physical_type::int16;
    case type_kind::int_: return physical_type::int32;
    case type_kind::bigint: return physical_type::int64;
    case type_kind::largeint: return physical_type::int128;
    case type_kind::float_: return physical_type::float32;
    case type_kind::double_: return physical_type::float64;
    case type_kind::decimal: return physical_type::int128;
    case type_kind::date: return physical_type::int32;
    case type_kind::datetime: return physical_type::int64;
    case type_kind::char_:
    case type_kind::varchar:
    case type_kind::string:
    case type_kind::json: return physical_type::bytes;
    }
    throw std::invalid_argument("unknown type kind");
}

size_t value_width(physical_type p) {
    switch (p) {
    case physical_type::boolean:
    case physical_type::int8: return 1;
    case physical_type::int16: return 2;
    case physical_type::int32:
    case physical_type::float32: return 4;
    case physical_type::int64:
    case physical_type::float64: return 8;
    case physical_type::int128: return 16;
    case physical_type::bytes: return 0;
    }
    return 0;
}

namespace {

/// The storage alternative's index equals the physical type; so does the cell's minus one.
size_t index_of(physical_type p) {
    return static_cast<size_t>(p);
}

storage_error corrupt(std::string message) {
    return storage_error{storage_errc::corrupt_data, std::move(message)};
}

storage_result<void> check_nulls(bool nullable, size_t rows, const std::vector<uint8_t>& nulls) {
    if (!nullable && !nulls.empty()) {
        return corrupt("null flags given for a column that is not nullable");
    }
    if (nullable && nulls.size() != rows) {
        return corrupt(fmt::format("{} null flags for {} rows", nulls.size(), rows));
    }
    return {};
}

/// from_values / from_strings: our own parts, so a failed check is a bug in the caller.
column_vector trusted(storage_result<column_vector> checked) {
    if (!checked) {
        throw std::invalid_argument(checked.error().message);
    }
    return std::move(*checked);
}

}  // namespace

column_vector::column_vector(physical_type type, bool nullable) : _type(type), _nullable(nullable) {
    switch (type) {
    case physical_type::boolean: _data.emplace<0>(); break;
    case physical_type::int8: _data.emplace<1>(); break;
    case physical_type::int16: _data.emplace<2>(); break;
    case physical_type::int32: _data.emplace<3>(); break;
    case physical_type::int64: _data.emplace<4>(); break;
    case physical_type::int128: _data.emplace<5>(); break;
    case physical_type::float32: _data.emplace<6>(); break;
    case physical_type::float64: _data.emplace<7>(); break;
    case physical_type::bytes: _data.emplace<8>(); break;
    }
}

template <class T>
storage_result<column_vector> column_vector::decode_values(bool nullable, std::vector<T> values,
                                                           std::vector<uint8_t> nulls) {
    if (auto checked = check_nulls(nullable, values.size(), nulls); !checked) {
        return checked.error();
    }
    physical_type type = physical_type::boolean;
    if constexpr (std::is_same_v<T, uint8_t>) {
        if (std::any_of(values.begin(), values.end(), [](uint8_t b) { return b > 1; })) {
            return corrupt("a boolean value other than 0 or 1");
        }
    } else if constexpr (std::is_same_v<T, int8_t>) {
        type = physical_type::int8;
    } else if constexpr (std::is_same_v<T, int16_t>) {
        type = physical_type::int16;
    } else if constexpr (std::is_same_v<T, int32_t>) {
        type = physical_type::int32;
    } else if constexpr (std::is_same_v<T, int64_t>) {
        type = physical_type::int64;
    } else if constexpr (std::is_same_v<T, int128>) {
        type = physical_type::int128;
    } else if constexpr (std::is_same_v<T, float>) {
        type = physical_type::float32;
    } else {
        static_assert(std::is_same_v<T, double>);
        type = physical_type::float64;
    }
    column_vector out(type, nullable);
    size_t null_count = 0;
    for (size_t row = 0; row < nulls.size(); ++row) {
        if (nulls[row] > 1) {
            return corrupt("a null flag other than 0 or 1");
        }
        null_count += nulls[row];
    }
    std::get<std::vector<T>>(out._data) = std::move(values);
    out._nulls = std::move(nulls);
    out._null_count = null_count;
    return out;
}

template <class T>
column_vector column_vector::from_values(bool nullable, std::vector<T> values, std::vector<uint8_t> nulls) {
    return trusted(decode_values<T>(nullable, std::move(values), std::move(nulls)));
}

template storage_result<column_vector> column_vector::decode_values(bool, std::vector<uint8_t>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<int8_t>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<int16_t>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<int32_t>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<int64_t>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<int128>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<float>, std::vector<uint8_t>);
template storage_result<column_vector> column_vector::decode_values(bool, std::vector<double>, std::vector<uint8_t>);

template column_vector column_vector::from_values(bool, std::vector<uint8_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int8_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int16_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int32_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int64_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int128>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<float>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<double>, std::vector<uint8_t>);

storage_result<column_vector> column_vector::decode_strings(bool nullable, std::vector<uint64_t> offsets,
                                                            std::string bytes, std::vector<uint8_t> nulls) {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != bytes.size()) {
        return corrupt("string offsets do not start at 0 and end at the byte count");
    }
    if (!std::is_sorted(offsets.begin(), offsets.end())) {
        return corrupt("string offsets decrease");
    }
    size_t rows = offsets.size() - 1;
    if (auto checked = check_nulls(nullable, rows, nulls); !checked) {
        return checked.error();
    }
    column_vector out(physical_type::bytes, nullable);
    size_t null_count = 0;
    for (size_t row = 0; row < nulls.size(); ++row) {
        if (nulls[row] > 1) {
            return corrupt("a null flag other than 0 or 1");
        }
        if (nulls[row] != 0 && offsets[row + 1] != offsets[row]) {
            return corrupt("a NULL string slot holds bytes");
        }
        null_count += nulls[row];
    }
    auto& data = std::get<string_data>(out._data);
    data.offsets = std::move(offsets);
    data.bytes = std::move(bytes);
    out._nulls = std::move(nulls);
    out._null_count = null_count;
    return out;
}

column_vector column_vector::from_strings(bool nullable, std::vector<uint64_t> offsets, std::string bytes,
                                          std::vector<uint8_t> nulls) {
    return trusted(decode_strings(nullable, std::move(offsets), std::move(bytes), std::move(nulls)));
}

size_t column_vector::size() const {
    return std::visit(
        [](const auto& v) -> size_t {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, string_data>) {
                return v.offsets.size() - 1;
            } else {
                return v.size();
            }
        },
        _data);
}

void column_vector::append(const cell& c) {
    if (storage::is_null(c)) {
        append_null();
        return;
    }
    if (c.index() != index_of(_type) + 1) {
        throw std::invalid_argument(
            fmt::format("a cell of kind {} appended to a column of kind {}", c.index() - 1, index_of(_type)));
    }
    switch (_type) {
    case physical_type::boolean: std::get<0>(_data).push_back(std::get<bool>(c) ? 1 : 0); break;
    case physical_type::int8: std::get<1>(_data).push_back(std::get<int8_t>(c)); break;
    case physical_type::int16: std::get<2>(_data).push_back(std::get<int16_t>(c)); break;
    case physical_type::int32: std::get<3>(_data).push_back(std::get<int32_t>(c)); break;
    case physical_type::int64: std::get<4>(_data).push_back(std::get<int64_t>(c)); break;
    case physical_type::int128: std::get<5>(_data).push_back(std::get<int128>(c)); break;
    case physical_type::float32: std::get<6>(_data).push_back(std::get<float>(c)); break;
    case physical_type::float64: std::get<7>(_data).push_back(std::get<double>(c)); break;
    case physical_type::bytes: {
        auto& s = std::get<string_data>(_data);
        s.bytes.append(std::get<std::string_view>(c));
        s.offsets.push_back(s.bytes.size());
        break;
    }
    }
    if (_nullable) {
        _nulls.push_back(0);
    }
}

void column_vector::append_null() {
    if (!_nullable) {
        throw std::invalid_argument("NULL appended to a column that is not nullable");
    }
    if (auto* s = std::get_if<string_data>(&_data)) {
        s->offsets.push_back(s->bytes.size());
    } else {
        std::visit(
            [](auto& v) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, string_data>) {
                    v.emplace_back();  // value-initialized: zero
                }
            },
            _data);
    }
    _nulls.push_back(1);
    ++_null_count;
}

void column_vector::reserve(size_t rows, size_t bytes) {
    if (auto* s = std::get_if<string_data>(&_data)) {
        s->offsets.reserve(rows + 1);
        s->bytes.reserve(bytes);
    } else {
        std::visit(
            [rows](auto& v) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, string_data>) {
                    v.reserve(rows);
                }
            },
            _data);
    }
    if (_nullable) {
        _nulls.reserve(rows);
    }
}

void column_vector::clear() {
    if (auto* s = std::get_if<string_data>(&_data)) {
        s->offsets.resize(1);
        s->bytes.clear();
    } else {
        std::visit(
            [](auto& v) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, string_data>) {
                    v.clear();
                }
            },
            _data);
    }
    _nulls.clear();
    _null_count = 0;
}

cell column_vector::get(size_t row) const {
    if (is_null(row)) {
        return std::monostate{};
    }
    switch (_type) {
    case physical_type::boolean: return std::get<0>(_data)[row] != 0;
    case physical_type::int8: return std::get<1>(_data)[row];
    case physical_type::int16: return std::get<2>(_data)[row];
    case physical_type::int32: return std::get<3>(_data)[row];
    case physical_type::int64: return std::get<4>(_data)[row];
    case physical_type::int128: return std::get<5>(_data)[row];
    case physical_type::float32: return std::get<6>(_data)[row];
    case physical_type::float64: return std::get<7>(_data)[row];
    case physical_type::bytes: return string_at(row);
    }
    return std::monostate{};
}

namespace {

template <class V>
void gather_into(V& dst, const V& src, std::span<const uint32_t> rows) {
    size_t old = dst.size();
    dst.resize(old + rows.size());
    auto* out = dst.data() + old;
    const auto* in = src.data();
    for (size_t i = 0; i < rows.size(); ++i) {
        out[i] = in[rows[i]];
    }
}

}  // namespace

bool column_vector::any_null(std::span<const uint32_t> rows) const {
    if (!_nullable || _null_count == 0) {
        return false;
    }
    return std::any_of(rows.begin(), rows.end(), [&](uint32_t r) { return _nulls[r] != 0; });
}

void column_vector::append_from(const column_vector& src, std::span<const uint32_t> rows) {
    if (src._type != _type) {
        throw std::invalid_argument(
            fmt::format("rows of kind {} appended to a column of kind {}", index_of(src._type), index_of(_type)));
    }
    if (!_nullable && src.any_null(rows)) {
        throw std::invalid_argument("NULL appended to a column that is not nullable");
    }
    if (auto* s = std::get_if<string_data>(&_data)) {
        const auto& from = std::get<string_data>(src._data);
        size_t total = 0;
        for (uint32_t r : rows) {
            total += from.offsets[r + 1] - from.offsets[r];
        }
        // Short strings are copied 16 bytes at a time (a fixed-size memcpy is two moves, a
        // variable one a call): the destination gets 16 bytes of slack, cut off at the end.
        constexpr size_t chunk = 16;
        size_t base = s->bytes.size();
        s->bytes.resize(base + total + chunk);
        s->offsets.reserve(s->offsets.size() + rows.size());
        char* out = s->bytes.data() + base;
        const char* in = from.bytes.data();
        const size_t in_size = from.bytes.size();
        uint64_t pos = base;
        for (uint32_t r : rows) {
            uint64_t begin = from.offsets[r];
            uint64_t len = from.offsets[r + 1] - begin;
            if (len <= chunk && begin + chunk <= in_size) {
                std::memcpy(out, in + begin, chunk);
            } else {
                std::memcpy(out, in + begin, len);
            }
            out += len;
            pos += len;
            s->offsets.push_back(pos);
        }
        s->bytes.resize(base + total);
    } else {
        std::visit(
            [&](auto& dst) {
                using V = std::decay_t<decltype(dst)>;
                if constexpr (!std::is_same_v<V, string_data>) {
                    gather_into(dst, std::get<V>(src._data), rows);
                }
            },
            _data);
    }
    if (_nullable) {
        if (src._nullable && src._null_count != 0) {
            gather_into(_nulls, src._nulls, rows);
            for (size_t i = _nulls.size() - rows.size(); i < _nulls.size(); ++i) {
                _null_count += _nulls[i];
            }
        } else {
            _nulls.resize(_nulls.size() + rows.size(), 0);
        }
    }
}

void column_vector::append_range(const column_vector& src, size_t begin, size_t end) {
    if (src._type != _type) {
        throw std::invalid_argument(
            fmt::format("rows of kind {} appended to a column of kind {}", index_of(src._type), index_of(_type)));
    }
    if (!_nullable && src._nullable && src._null_count != 0 &&
        std::any_of(src._nulls.begin() + begin, src._nulls.begin() + end, [](uint8_t n) { return n != 0; })) {
        throw std::invalid_argument("NULL appended to a column that is not nullable");
    }
    if (auto* s = std::get_if<string_data>(&_data)) {
        const auto& from = std::get<string_data>(src._data);
        uint64_t base = s->bytes.size();
        uint64_t first = from.offsets[begin];
        s->bytes.append(from.bytes, first, from.offsets[end] - first);
        s->offsets.reserve(s->offsets.size() + (end - begin));
        for (size_t r = begin + 1; r <= end; ++r) {
            s->offsets.push_back(base + from.offsets[r] - first);
        }
    } else {
        std::visit(
            [&](auto& dst) {
                using V = std::decay_t<decltype(dst)>;
                if constexpr (!std::is_same_v<V, string_data>) {
                    const V& from = std::get<V>(src._data);
                    dst.insert(dst.end(), from.begin() + static_cast<ptrdiff_t>(begin),
                               from.begin() + static_cast<ptrdiff_t>(end));
                }
            },
            _data);
    }
    if (_nullable) {
        if (src._nullable) {
            _nulls.insert(_nulls.end(), src._nulls.begin() + static_cast<ptrdiff_t>(begin),
                          src._nulls.begin() + static_cast<ptrdiff_t>(end));
            if (src._null_count != 0) {
                _null_count += static_cast<size_t>(std::count_if(src._nulls.begin() + static_cast<ptrdiff_t>(begin),
                                                                 src._nulls.begin() + static_cast<ptrdiff_t>(end),
                                                                 [](uint8_t n) { return n != 0; }));
            }
        } else {
            _nulls.resize(_nulls.size() + (end - begin), 0);
        }
    }
}

uint64_t column_vector::block_bytes() const {
    uint64_t rows = size();
    uint64_t out = _nullable ? (rows + 7) / 8 : 0;
    if (_type == physical_type::bytes) {
        const auto& s = std::get<string_data>(_data);
        return out + s.offsets.size() * sizeof(uint64_t) + s.bytes.size();
    }
    return out + rows * value_width(_type);
}

template <class T>
std::span<const T> column_vector::values() const {
    return std::get<std::vector<T>>(_data);
}

template std::span<const uint8_t> column_vector::values() const;
template std::span<const int8_t> column_vector::values() const;
template std::span<const int16_t> column_vector::values() const;
template std::span<const int32_t> column_vector::values() const;
template std::span<const int64_t> column_vector::values() const;
template std::span<const int128> column_vector::values() const;
template std::span<const float> column_vector::values() const;
template std::span<const double> column_vector::values() const;

std::span<const uint64_t> column_vector::offsets() const {
    return std::get<string_data>(_data).offsets;
}

std::string_view column_vector::bytes() const {
    return std::get<string_data>(_data).bytes;
}

std::string_view column_vector::string_at(size_t row) const {
    const auto& s = std::get<string_data>(_data);
    return std::string_view(s.bytes).substr(s.offsets[row], s.offsets[row + 1] - s.offsets[row]);
}

column_batch::column_batch(std::vector<column_desc> schema) : _schema(std::move(schema)) {
    _columns.reserve(_schema.size());
    for (const auto& c : _schema) {
        _columns.emplace_back(physical_of(c.type.kind), c.nullable);
    }
}

storage_result<void> column_batch::check_fit(const std::vector<column_desc>& schema,
                                             const std::vector<column_vector>& columns) {
    if (schema.size() != columns.size()) {
        return corrupt(fmt::format("{} columns for a schema of {}", columns.size(), schema.size()));
    }
    for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].type() != physical_of(schema[i].type.kind) || columns[i].nullable() != schema[i].nullable) {
            return corrupt(fmt::format("column {} does not match its schema", schema[i].name));
        }
        if (columns[i].size() != columns[0].size()) {
            return corrupt(fmt::format("column {} has {} rows, column {} has {}", schema[i].name, columns[i].size(),
                                       schema[0].name, columns[0].size()));
        }
    }
    return {};
}

column_batch::column_batch(std::vector<column_desc> schema, std::vector<column_vector> columns)
    : _schema(std::move(schema)), _columns(std::move(columns)) {
    if (auto fits = check_fit(_schema, _columns); !fits) {
        throw std::invalid_argument(fits.error().message);
    }
}

storage_result<column_batch> column_batch::adopt(std::vector<column_desc> schema, std::vector<column_vector> columns) {
    if (auto fits = check_fit(schema, columns); !fits) {
        return fits.error();
    }
    column_batch out;
    out._schema = std::move(schema);
    out._columns = std::move(columns);
    return out;
}

void column_batch::append_row(std::span<const cell> row) {
    if (row.size() != _columns.size()) {
        throw std::invalid_argument(fmt::format("a row of {} cells for {} columns", row.size(), _columns.size()));
    }
    // Check every cell before appending any, so a bad row leaves the batch as it was.
    for (size_t i = 0; i < row.size(); ++i) {
        bool fits = storage::is_null(row[i]) ? _columns[i].nullable()
                                             : row[i].index() == index_of(_columns[i].type()) + 1;
        if (!fits) {
            throw std::invalid_argument(fmt::format("cell {} does not fit column {} ({})", i, _schema[i].name,
                                                    _schema[i].type.to_sql()));
        }
    }
    for (size_t i = 0; i < row.size(); ++i) {
        _columns[i].append(row[i]);
    }
}

void column_batch::append_from(const column_batch& src, std::span<const uint32_t> rows) {
    if (src._columns.size() != _columns.size()) {
        throw std::invalid_argument(fmt::format("rows of {} columns appended to {}", src._columns.size(), _columns.size()));
    }
    // Nullability first, so that a failure leaves the batch as it was.
    for (size_t i = 0; i < _columns.size(); ++i) {
        if (!_columns[i].nullable() && src._columns[i].any_null(rows)) {
            throw std::invalid_argument(fmt::format("NULL appended to column {}, which is not nullable", _schema[i].name));
        }
    }
    for (size_t i = 0; i < _columns.size(); ++i) {
        _columns[i].append_from(src._columns[i], rows);
    }
}

void column_batch::append_range(const column_batch& src, size_t begin, size_t end) {
    if (src._columns.size() != _columns.size()) {
        throw std::invalid_argument(fmt::format("rows of {} columns appended to {}", src._columns.size(), _columns.size()));
    }
    for (size_t i = 0; i < _columns.size(); ++i) {
        _columns[i].append_range(src._columns[i], begin, end);
    }
}

column_batch column_batch::take(std::span<const uint32_t> rows) const {
    column_batch out(_schema);
    out.append_from(*this, rows);
    return out;
}

column_batch column_batch::slice(size_t begin, size_t end) const {
    column_batch out(_schema);
    out.append_range(*this, begin, end);
    return out;
}

uint64_t column_batch::block_bytes() const {
    uint64_t total = 0;
    for (const auto& c : _columns) {
        total += c.block_bytes();
    }
    return total;
}

void column_batch::clear() {
    for (auto& c : _columns) {
        c.clear();
    }
}

void column_batch::reserve_like(const column_batch& sample, size_t rows) {
    size_t n = std::max<size_t>(1, sample.num_rows());
    for (size_t i = 0; i < _columns.size() && i < sample._columns.size(); ++i) {
        size_t bytes = 0;
        if (sample._columns[i].type() == physical_type::bytes) {
            bytes = sample._columns[i].bytes().size() / n * rows + rows;
        }
        _columns[i].reserve(rows, bytes);
    }
}

void column_batch::reserve(size_t rows) {
    for (auto& c : _columns) {
        c.reserve(rows);
    }
}

}  // namespace tv::storage
