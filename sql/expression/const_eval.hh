// SPDX-License-Identifier: Apache-2.0
// Evaluates expressions that need no table: SELECT without FROM, SET values, and the session
// functions clients call on connect (DATABASE(), CONNECTION_ID(), @@version_comment, ...).
#pragma once

#include "sql/parser/ast_expr.hh"
#include "sql/errors.hh"
#include "sql/result.hh"
#include "sql/session.hh"

#include <functional>
#include <optional>
#include <string>
#include <variant>

namespace tv::sql {

/// A typed scalar. Integers are 64-bit; decimals keep their digits as text.
struct scalar {
    enum class type : uint8_t { null, integer, decimal, floating, string };
    type kind = type::null;
    int64_t integer = 0;
    double floating = 0;
    std::string text;  // string and decimal values

    static scalar null() { return {}; }
    static scalar of(int64_t v) { return {type::integer, v, 0, {}}; }
    static scalar of(double v) { return {type::floating, 0, v, {}}; }
    static scalar of(std::string v) { return {type::string, 0, 0, std::move(v)}; }

    bool is_null() const noexcept { return kind == type::null; }
    /// The text a client receives; nullopt for NULL.
    cell to_cell() const;
    column_kind to_column_kind() const;
};

/// Values of the columns a SHOW ... WHERE filter may name (case-insensitive); nullopt for a
/// name that is not a column.
using column_binding = std::function<std::optional<scalar>(std::string_view column)>;

/// Evaluates `e` in the context of `s`. Column references resolve through `columns` (SHOW ...
/// WHERE), else they are error 1054. Unknown functions are an error naming the function.
sql_result<scalar> evaluate_constant(const expr& e, const session& s, const column_binding& columns = {});

/// Truthiness as MySQL defines it for WHERE/AND/OR: non-zero numbers and numeric strings.
std::optional<bool> truth(const scalar& v);

}  // namespace tv::sql
