// SPDX-License-Identifier: Apache-2.0
// column_batch: rows held column by column in typed vectors, the unit segment files are written
// from and read into. Parts read from a file are checked and refused as storage_error values;
// only programming errors (our own code passing mismatched parts) throw.
#pragma once

#include "storage/catalog_types.hh"
#include "storage/error.hh"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tv::storage {

/// LARGEINT, and DECIMAL as its unscaled value (the scale lives in the column's type).
using int128 = __int128;

/// "-170141183460469231731687303715884105728": __int128 has no operator<<.
std::string int128_to_string(int128 v);

/// How a column's values are held in memory and on disk. Several SQL types share one: DATE is
/// int32 days since 1970-01-01, DATETIME int64 microseconds since the epoch (UTC-free wall
/// time), DECIMAL(p, s) always int128 whatever p is, CHAR/VARCHAR/STRING/JSON bytes.
enum class physical_type : uint8_t { boolean, int8, int16, int32, int64, int128, float32, float64, bytes };

physical_type physical_of(type_kind k);

/// Bytes per value on disk and in memory; 0 for bytes (variable width).
size_t value_width(physical_type p);

/// One cell, for appending and reading back a row at a time. The alternative's index is the
/// physical type's plus one; monostate is NULL. A string_view from get() points into the
/// batch and lives as long as the batch is not modified.
using cell = std::variant<std::monostate, bool, int8_t, int16_t, int32_t, int64_t, int128, float, double,
                          std::string_view>;

inline bool is_null(const cell& c) {
    return std::holds_alternative<std::monostate>(c);
}

struct column_desc {
    std::string name;
    column_type type;
    bool nullable = true;

    friend bool operator==(const column_desc&, const column_desc&) = default;
};

/// The values of one column: a typed vector (or offsets and one byte buffer for strings), and
/// for a nullable column one byte per row, 1 meaning NULL. A NULL row still has a slot holding
/// zero (or the empty string), so values stay indexed by row and files stay deterministic.
class column_vector {
public:
    column_vector(physical_type type, bool nullable);

    /// Builds a column from parts decoded from a file, checking everything damage could get
    /// wrong: sizes, boolean values and null flags other than 0 or 1, string offsets not
    /// starting at 0, decreasing or not ending at the byte count, a NULL slot holding bytes.
    /// Fails with corrupt_data saying what is wrong; the reader adds which file.
    template <class T>
    static storage_result<column_vector> decode_values(bool nullable, std::vector<T> values,
                                                       std::vector<uint8_t> nulls);
    static storage_result<column_vector> decode_strings(bool nullable, std::vector<uint64_t> offsets,
                                                        std::string bytes, std::vector<uint8_t> nulls);

    /// The same from parts our own code computed (the evaluator, aggregates, merges), which
    /// cannot come from a file or a user: parts that disagree are a programming error and
    /// throw std::invalid_argument.
    template <class T>
    static column_vector from_values(bool nullable, std::vector<T> values, std::vector<uint8_t> nulls);
    static column_vector from_strings(bool nullable, std::vector<uint64_t> offsets, std::string bytes,
                                      std::vector<uint8_t> nulls);

    physical_type type() const { return _type; }
    bool nullable() const { return _nullable; }
    size_t size() const;
    size_t null_count() const { return _null_count; }
    bool is_null(size_t row) const { return _nullable && _nulls[row] != 0; }

    /// Appends `c`, whose alternative must match the column's physical type (or be NULL on a
    /// nullable column); anything else is a programming error and throws std::invalid_argument.
    void append(const cell& c);
    void append_null();
    void reserve(size_t rows, size_t bytes = 0);
    /// No rows, capacity kept: a buffer reused without touching fresh memory.
    void clear();

    cell get(size_t row) const;

    /// Appends src's rows `rows` (a gather), or rows [begin, end). `src` must have the same
    /// physical type; its nullability may differ, but a NULL going into a column that is not
    /// nullable throws std::invalid_argument (checked before anything is appended). Callers
    /// check rows against the schema first (load_segments' conform_to), so a throw here is a
    /// programming error.
    void append_from(const column_vector& src, std::span<const uint32_t> rows);
    void append_range(const column_vector& src, size_t begin, size_t end);
    /// Bytes this column's block takes in a segment file (null bitmap, values, string offsets
    /// and bytes): what a segment of these rows costs, and a memory estimate.
    uint64_t block_bytes() const;
    /// Whether any of `rows` is NULL.
    bool any_null(std::span<const uint32_t> rows) const;

    /// The contiguous values, T matching the physical type (uint8_t 0/1 for boolean).
    template <class T>
    std::span<const T> values() const;
    /// Strings: size() + 1 offsets into bytes(), the first 0.
    std::span<const uint64_t> offsets() const;
    std::string_view bytes() const;
    std::string_view string_at(size_t row) const;
    /// One byte per row (1 = NULL); empty for a column that is not nullable.
    std::span<const uint8_t> nulls() const { return _nulls; }

private:
    struct string_data {
        std::vector<uint64_t> offsets{0};
        std::string bytes;
    };
    using value_storage = std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<int16_t>,
                                 std::vector<int32_t>, std::vector<int64_t>, std::vector<int128>, std::vector<float>,
                                 std::vector<double>, string_data>;

    physical_type _type;
    bool _nullable;
    value_storage _data;
    std::vector<uint8_t> _nulls;
    size_t _null_count = 0;
};

/// A schema and one column_vector per column, all of num_rows() rows.
class column_batch {
public:
    column_batch() = default;
    explicit column_batch(std::vector<column_desc> schema);
    /// Adopts columns our own code built for `schema`; a count, type or length mismatch is a
    /// programming error and throws std::invalid_argument.
    column_batch(std::vector<column_desc> schema, std::vector<column_vector> columns);
    /// Adopts columns read from a file, which may not fit `schema` (damage, or a file written
    /// for another schema): corrupt_data saying which column, for the reader to name the file.
    static storage_result<column_batch> adopt(std::vector<column_desc> schema, std::vector<column_vector> columns);

    const std::vector<column_desc>& schema() const { return _schema; }
    size_t num_columns() const { return _columns.size(); }
    size_t num_rows() const { return _columns.empty() ? 0 : _columns[0].size(); }

    const column_vector& column(size_t i) const { return _columns[i]; }

    /// Appends one row, one cell per column (monostate = NULL). Rows are built by our own code
    /// for this schema, so a type mismatch is a programming error: it throws
    /// std::invalid_argument and the batch is unchanged.
    void append_row(std::span<const cell> row);
    cell get(size_t row, size_t col) const { return _columns[col].get(row); }
    void reserve(size_t rows);

    /// Appends src's rows `rows`, column by column; src's columns must have the same physical
    /// types (nullability may differ, see column_vector::append_from).
    void append_from(const column_batch& src, std::span<const uint32_t> rows);
    void append_range(const column_batch& src, size_t begin, size_t end);
    /// A new batch of this schema holding rows `rows` / rows [begin, end).
    column_batch take(std::span<const uint32_t> rows) const;
    column_batch slice(size_t begin, size_t end) const;
    /// Sum of the columns' block_bytes(): the segment size of these rows minus header/footer.
    uint64_t block_bytes() const;
    /// No rows, columns and capacity kept.
    void clear();
    /// Reserves room for `rows` rows, string columns sized by `sample`'s average string length
    /// (which has this schema's physical types).
    void reserve_like(const column_batch& sample, size_t rows);
    /// Takes the columns out; the batch is left without columns.
    std::vector<column_vector> release_columns() { return std::move(_columns); }

private:
    /// Why `columns` do not fit `schema`, if they do not.
    static storage_result<void> check_fit(const std::vector<column_desc>& schema,
                                          const std::vector<column_vector>& columns);

    std::vector<column_desc> _schema;
    std::vector<column_vector> _columns;
};

}  // namespace tv::storage
