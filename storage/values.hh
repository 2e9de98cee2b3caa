// SPDX-License-Identifier: Apache-2.0
// Literal values typed by a column: validation and normalization (for DEFAULT and partition
// values), ordering by the column's type, and StarRocks' text for partition keys in messages.
#pragma once

#include "storage/catalog_types.hh"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tv::storage {

/// The canonical text of `text` as a value of type `t` ("007" -> "7" for INT, "2024-1-2" ->
/// "2024-01-02" for DATE, "2024-01-02" -> "2024-01-02 00:00:00" for DATETIME), or nullopt
/// with `error` set when the value does not fit the type.
std::optional<std::string> normalize_value(const column_type& t, std::string_view text, std::string& error);

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
