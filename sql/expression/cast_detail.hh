// SPDX-License-Identifier: Apache-2.0
// Pieces of the conversions shared between the fixed-width casts, the text casts and the
// functions: powers of ten, decimal rescaling, dates as yyyymmdd numbers.
#pragma once

#include "sql/expression/cast.hh"

#include <optional>

namespace tv::sql::cast_detail {

using storage::int128;

/// 10^n for 0 <= n <= 38.
int128 pow10(int n);
/// v / divisor rounded half away from zero (divisor > 0).
int128 div_round(int128 v, int128 divisor);
/// An unscaled decimal at another scale (rounding when it drops digits); false on overflow.
bool rescale(int128 v, int from_scale, int to_scale, int128& out);
/// |v| < 10^precision.
bool fits_precision(int128 v, int precision);

/// 20240131 -> days since the epoch; nullopt when not a valid date.
std::optional<int32_t> date_of_number(int128 v);
/// 20240131102030 (or 20240131) -> microseconds since the epoch.
std::optional<int64_t> datetime_of_number(int128 v);
int64_t number_of_date(int32_t days);
int64_t number_of_datetime(int64_t micros);
/// The day a DATETIME falls on (floor, also before 1970).
int32_t date_of_datetime(int64_t micros);

/// Conversions whose source or target is text (parse_typed / format_typed underneath).
storage::column_vector cast_text(const storage::column_vector& in, bool constant, size_t n, const cast_request& req,
                                 std::vector<cast_failure>& failures);

}  // namespace tv::sql::cast_detail
