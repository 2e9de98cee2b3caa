// SPDX-License-Identifier: Apache-2.0
// Literal values typed by a column: validation and normalization (for DEFAULT and partition
// values), text to physical values and back (parse_typed / format_typed, shared by loads, the
// query engine and partition routing), civil dates, ordering by the column's type, and
// StarRocks' text for partition keys in messages.
#pragma once

#include "storage/catalog_types.hh"
#include "storage/column_batch.hh"
#include "storage/error.hh"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tv::storage {

/// A cell that owns its string: what parse_typed() returns. Alternatives in the order of
/// `cell` (monostate is NULL), so `as_cell()` keeps the index.
struct owned_value : std::variant<std::monostate, bool, int8_t, int16_t, int32_t, int64_t, int128, float, double,
                                  std::string> {
    using variant::variant;
    /// A view of the value; a string cell points into this object.
    cell as_cell() const;
};

/// Days since 1970-01-01 of a proleptic Gregorian date (no range check: callers validate).
int32_t days_from_civil(int y, unsigned m, unsigned d) noexcept;

struct civil_date {
    int year = 1970;
    unsigned month = 1;
    unsigned day = 1;
    friend bool operator==(const civil_date&, const civil_date&) = default;
};
/// The inverse of days_from_civil.
civil_date civil_from_days(int32_t days) noexcept;

inline constexpr int64_t micros_per_second = 1000000;
inline constexpr int64_t micros_per_day = 86400 * micros_per_second;

/// Text as a user writes it ("2024-1-2", " 007 ", "1.50", "true"/"1"/"0" for BOOLEAN) to the
/// physical value of physical_of(t.kind): DATE int32 days since 1970-01-01, DATETIME int64
/// microseconds since the epoch, DECIMAL(p, s) int128 unscaled (more fraction digits than s round
/// half away from zero; more than p - s integer digits after rounding is an error), LARGEINT
/// int128, FLOAT/DOUBLE (inf and nan accepted; overflow is an error), strings kept as written
/// (CHAR/VARCHAR longer than their length in bytes is an error, as StarRocks counts bytes).
/// Surrounding blanks are ignored except for strings. Accepts exactly what normalize_value()
/// accepts, failing with invalid_value and the same messages ("Invalid INT value: 'x'").
storage_result<owned_value> parse_typed(const column_type& t, std::string_view text);

/// The text MySQL/StarRocks shows for a non-NULL value of type `t` (`c` holds physical_of(t.kind)):
/// integers plain, DECIMAL with exactly `scale` fraction digits ("-0.50"), DATE "YYYY-MM-DD",
/// DATETIME "YYYY-MM-DD HH:MM:SS" plus ".ffffff" only when the microseconds are not 0, BOOLEAN
/// "1"/"0", FLOAT/DOUBLE the shortest text that reads back to the same value ("0.1", "1e+20",
/// "inf", "-inf", "nan"), strings as they are. NULL (or a cell of the wrong kind) gives "".
std::string format_typed(const column_type& t, const cell& c);

/// The canonical text of `text` as a value of type `t` ("007" -> "7" for INT, "2024-1-2" ->
/// "2024-01-02" for DATE, "2024-01-02" -> "2024-01-02 00:00:00" for DATETIME), or
/// invalid_value saying why when the value does not fit the type.
storage_result<std::string> normalize_value(const column_type& t, std::string_view text);

/// Orders two normalized values of type `t` (-1, 0, 1): integers numerically, dates and
/// datetimes as time, strings bytewise. MINVALUE and MAXVALUE sort before and after everything.
int compare_values(const column_type& t, std::string_view a, std::string_view b);

/// Orders two partition keys (one value per partition column) column by column.
int compare_keys(std::span<const column_type> types, const std::vector<std::string>& a,
                 const std::vector<std::string>& b);

/// "types: [INT, DATE]; keys: [10, 2024-01-01]; " as StarRocks prints a partition key; MINVALUE
/// shows as the type's minimum, as there.
std::string format_key(std::span<const column_type> types, const std::vector<std::string>& key);

/// "[<lower>..<upper>)" with format_key() on each end: Guava's Range text, used in StarRocks'
/// overlap message.
std::string format_range(std::span<const column_type> types, const std::vector<std::string>& lower,
                         const std::vector<std::string>& upper);

/// "('a', 'b')" for a LIST partition value tuple.
std::string format_tuple(const std::vector<std::string>& values);

}  // namespace tv::storage
