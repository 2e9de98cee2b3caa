// SPDX-License-Identifier: Apache-2.0
// Column helpers shared by the evaluator, the aggregator and the executor: building typed
// columns, dispatch on the physical type, gathering rows, concatenating, row keys for hashing
// and ordering of values.
#pragma once

#include "sql/expression/eval.hh"

#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace tv::sql::vec {

using storage::column_batch;
using storage::column_vector;
using storage::int128;
using storage::physical_type;

template <class T>
struct tag {
    using type = T;
};

/// Calls f(tag<T>{}) with T the C++ type of physical type `p` (uint8_t for boolean,
/// std::string_view for bytes).
template <class F>
decltype(auto) dispatch(physical_type p, F&& f) {
    switch (p) {
    case physical_type::boolean: return f(tag<uint8_t>{});
    case physical_type::int8: return f(tag<int8_t>{});
    case physical_type::int16: return f(tag<int16_t>{});
    case physical_type::int32: return f(tag<int32_t>{});
    case physical_type::int64: return f(tag<int64_t>{});
    case physical_type::int128: return f(tag<int128>{});
    case physical_type::float32: return f(tag<float>{});
    case physical_type::float64: return f(tag<double>{});
    case physical_type::bytes: break;
    }
    return f(tag<std::string_view>{});
}

template <class T>
constexpr bool is_bytes = std::is_same_v<T, std::string_view>;

inline physical_type physical(const storage::column_type& t) {
    return storage::physical_of(t.kind);
}

/// A fixed-width column of `n` rows built in place.
template <class T>
struct fixed_builder {
    std::vector<T> values;
    std::vector<uint8_t> nulls;
    bool nullable;

    fixed_builder(size_t n, bool nullable_) : values(n), nulls(nullable_ ? n : 0), nullable(nullable_) {}
    void set_null(size_t i) {
        nulls[i] = 1;
        values[i] = T{};
    }
    column_vector finish() { return column_vector::from_values<T>(nullable, std::move(values), std::move(nulls)); }
};

/// A string column built by appending rows in order into one byte buffer.
struct string_builder {
    std::vector<uint64_t> offsets;
    std::string bytes;
    std::vector<uint8_t> nulls;
    bool nullable;

    string_builder(size_t n, bool nullable_, size_t bytes_hint = 0) : nullable(nullable_) {
        offsets.reserve(n + 1);
        offsets.push_back(0);
        bytes.reserve(bytes_hint);
        if (nullable) {
            nulls.reserve(n);
        }
    }
    void append(std::string_view s) {
        bytes.append(s);
        end_row();
    }
    /// Ends a row whose bytes were appended to `bytes` directly.
    void end_row() {
        offsets.push_back(bytes.size());
        if (nullable) {
            nulls.push_back(0);
        }
    }
    void append_null() {
        offsets.push_back(bytes.size());
        nulls.push_back(1);
    }
    column_vector finish() {
        return column_vector::from_strings(nullable, std::move(offsets), std::move(bytes), std::move(nulls));
    }
};

/// A column of `n` NULLs (nullable) of a physical type.
column_vector null_column(physical_type p, size_t n);
/// `n` copies of row `slot` of `in`, with the given nullability (a NULL into a column that is
/// not nullable is a programming error).
column_vector broadcast(const column_vector& in, size_t slot, size_t n, bool nullable);
/// The rows `rows` of `in`, in that order.
column_vector gather(const column_vector& in, std::span<const uint32_t> rows);
/// `in` with its nullability changed (to not nullable only when it holds no NULL).
column_vector with_nullability(column_vector in, bool nullable);
/// The parts one after another (all of one physical type and nullability).
column_vector concat(std::span<const column_vector* const> parts, physical_type p, bool nullable);

column_batch gather_batch(const column_batch& in, std::span<const uint32_t> rows);
column_batch slice_batch(const column_batch& in, size_t from, size_t count);
/// A copy of the whole batch.
column_batch copy_batch(const column_batch& in);

/// Appends a byte encoding of row `row` of `c` such that two rows encode alike exactly when
/// they are equal values (or both NULL): keys for GROUP BY, DISTINCT and COUNT(DISTINCT).
void append_key(const column_vector& c, size_t row, std::string& out);

/// Orders two non-NULL values of one physical type: numbers numerically, bytes bytewise.
int compare_slots(const column_vector& a, size_t i, const column_vector& b, size_t j);

/// Null flags of `n` result rows: NULL where any input is NULL. Empty when !nullable.
std::vector<uint8_t> union_nulls(std::span<const value_vector* const> inputs, size_t n, bool nullable);

/// The string value of row i (constant-aware); "" for NULL.
inline std::string_view string_at(const value_vector& v, size_t i) {
    return v.column().string_at(v.slot(i));
}

template <class T>
std::span<const T> values(const value_vector& v) {
    return v.column().values<T>();
}

}  // namespace tv::sql::vec
