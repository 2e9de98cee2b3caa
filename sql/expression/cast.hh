// SPDX-License-Identifier: Apache-2.0
// Type conversion of whole columns: CAST in expressions (a value that does not convert becomes
// NULL) and cast_batch, which brings a batch to a table's schema for INSERT and Stream Load
// (strict: the first bad value is an error naming it; lenient: bad rows are dropped and counted).
#pragma once

#include "sql/errors.hh"
#include "storage/column_batch.hh"

#include <cstdint>
#include <string>
#include <vector>

namespace tv::sql {

/// Why a value did not convert (0 = it did).
enum class cast_failure : uint8_t { none = 0, invalid, out_of_range, too_long, null };

struct cast_request {
    storage::column_type from;
    storage::column_type to;
    bool to_nullable = true;
    /// CHAR/VARCHAR(n) targets reject longer values (cast_batch); CAST in expressions does not.
    bool check_length = false;
};

/// Converts `n` rows of `in` (row i read from slot `constant ? 0 : i`). A row that does not
/// convert holds NULL (or zero when !to_nullable) and is flagged in `failures`, which is sized
/// to `n` on the first failure and left empty when every row converted. A NULL into a target
/// that is not nullable is a failure of kind null.
storage::column_vector cast_column(const storage::column_vector& in, bool constant, size_t n, const cast_request& req,
                                   std::vector<cast_failure>& failures);

/// False when every value of `from` converts to `to` (so CAST's result is NULL only for NULL).
bool cast_can_fail(const storage::column_type& from, const storage::column_type& to, bool check_length);

/// The error for a value that did not convert (row_number is 1-based, for the message).
sql_error cast_error(cast_failure why, const storage::column_type& from, const storage::column_vector& values,
                     size_t slot, const storage::column_desc& target, uint64_t row_number);

struct cast_outcome {
    storage::column_batch rows;
    uint64_t filtered = 0;
    std::string first_error;
};

/// Converts a batch to `target` (same number of columns, by position; names come from
/// `target`). strict: the first bad value is an error naming row, column and value (1366
/// invalid, 1264 out of range, 1406 too long, 1048 NULL in a NOT NULL column); lenient: rows
/// with any bad value are dropped and counted, the first one's message kept. Row numbers in
/// messages are 1-based and start at `first_row + 1`.
sql_result<cast_outcome> cast_batch(const storage::column_batch& in,
                                    const std::vector<storage::column_desc>& target, bool strict,
                                    uint64_t first_row = 0);
/// The same, taking the batch: columns that need no conversion move over instead of being
/// copied (the INSERT ... SELECT path should hand its batches over this way).
sql_result<cast_outcome> cast_batch(storage::column_batch&& in,
                                    const std::vector<storage::column_desc>& target, bool strict,
                                    uint64_t first_row = 0);

}  // namespace tv::sql
