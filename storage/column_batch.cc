// SPDX-License-Identifier: Apache-2.0
// column_batch and column_vector: typed appends, reads and adoption of decoded columns.
#include "storage/column_batch.hh"

#include <fmt/format.h>

#include <algorithm>
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

void check_nulls(bool nullable, size_t rows, const std::vector<uint8_t>& nulls) {
    if (!nullable && !nulls.empty()) {
        throw std::invalid_argument("null flags given for a column that is not nullable");
    }
    if (nullable && nulls.size() != rows) {
        throw std::invalid_argument(fmt::format("{} null flags for {} rows", nulls.size(), rows));
    }
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
column_vector column_vector::from_values(bool nullable, std::vector<T> values, std::vector<uint8_t> nulls) {
    check_nulls(nullable, values.size(), nulls);
    physical_type type = physical_type::boolean;
    if constexpr (std::is_same_v<T, uint8_t>) {
        if (std::any_of(values.begin(), values.end(), [](uint8_t b) { return b > 1; })) {
            throw std::invalid_argument("a boolean value other than 0 or 1");
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
            throw std::invalid_argument("a null flag other than 0 or 1");
        }
        null_count += nulls[row];
    }
    std::get<std::vector<T>>(out._data) = std::move(values);
    out._nulls = std::move(nulls);
    out._null_count = null_count;
    return out;
}

template column_vector column_vector::from_values(bool, std::vector<uint8_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int8_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int16_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int32_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int64_t>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<int128>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<float>, std::vector<uint8_t>);
template column_vector column_vector::from_values(bool, std::vector<double>, std::vector<uint8_t>);

column_vector column_vector::from_strings(bool nullable, std::vector<uint64_t> offsets, std::string bytes,
                                          std::vector<uint8_t> nulls) {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != bytes.size()) {
        throw std::invalid_argument("string offsets do not start at 0 and end at the byte count");
    }
    if (!std::is_sorted(offsets.begin(), offsets.end())) {
        throw std::invalid_argument("string offsets decrease");
    }
    size_t rows = offsets.size() - 1;
    check_nulls(nullable, rows, nulls);
    column_vector out(physical_type::bytes, nullable);
    size_t null_count = 0;
    for (size_t row = 0; row < nulls.size(); ++row) {
        if (nulls[row] > 1) {
            throw std::invalid_argument("a null flag other than 0 or 1");
        }
        if (nulls[row] != 0 && offsets[row + 1] != offsets[row]) {
            throw std::invalid_argument("a NULL string slot holds bytes");
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

column_batch::column_batch(std::vector<column_desc> schema, std::vector<column_vector> columns)
    : _schema(std::move(schema)), _columns(std::move(columns)) {
    if (_schema.size() != _columns.size()) {
        throw std::invalid_argument(fmt::format("{} columns for a schema of {}", _columns.size(), _schema.size()));
    }
    for (size_t i = 0; i < _columns.size(); ++i) {
        if (_columns[i].type() != physical_of(_schema[i].type.kind) || _columns[i].nullable() != _schema[i].nullable) {
            throw std::invalid_argument(fmt::format("column {} does not match its schema", _schema[i].name));
        }
        if (_columns[i].size() != _columns[0].size()) {
            throw std::invalid_argument(fmt::format("column {} has {} rows, column {} has {}", _schema[i].name,
                                                    _columns[i].size(), _schema[0].name, _columns[0].size()));
        }
    }
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

void column_batch::reserve(size_t rows) {
    for (auto& c : _columns) {
        c.reserve(rows);
    }
}

}  // namespace tv::storage
