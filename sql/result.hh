// SPDX-License-Identifier: Apache-2.0
// What executing one statement produces: an OK (affected rows, info) or a result set of text
// rows, or else an sql_error. The protocol layer turns each into packets.
#pragma once

#include "sql/errors.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tv::sql {

/// Column types as the client sees them (a subset of MySQL's field types). BOOLEAN shows as
/// tinyint (1/0); LARGEINT as a DECIMAL with no fraction, which holds all of its digits.
enum class column_kind : uint8_t {
    varchar, bigint, decimal, double_, date, datetime, tinyint, smallint, int_, largeint, float_,
};

struct column_meta {
    std::string name;
    column_kind kind = column_kind::varchar;
    uint8_t decimals = 0;  ///< DECIMAL: the scale
    uint32_t length = 0;   ///< display width; 0: the kind's usual one
    bool nullable = true;
};

using cell = std::optional<std::string>;  // nullopt is SQL NULL
using row = std::vector<cell>;

struct result_set {
    std::vector<column_meta> columns;
    std::vector<row> rows;
};

struct ok_result {
    uint64_t affected_rows = 0;
    std::string info;
};

/// What a statement that succeeded answers.
using statement_answer = std::variant<ok_result, result_set>;

using statement_result = sql_result<statement_answer>;

}  // namespace tv::sql
