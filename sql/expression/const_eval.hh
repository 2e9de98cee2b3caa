// SPDX-License-Identifier: Apache-2.0
// Constant expressions (SELECT without FROM, SET values, generate_series arguments) run on the
// vectorized evaluator, the one that runs over table rows: compiled with no columns in scope and
// evaluated over one row, so a constant has exactly the type, value and text it has in a query
// over a table (DECIMAL arithmetic is exact, an out-of-range CAST is NULL).
#pragma once

#include "sql/expression/eval.hh"
#include "sql/parser/ast_expr.hh"
#include "sql/errors.hh"
#include "sql/result.hh"
#include "sql/session.hh"
#include "storage/column_batch.hh"

#include <string>

namespace tv::sql {

/// One evaluated value and its type.
struct constant_value {
    storage::column_type type;
    bool nullable = true;
    storage::column_vector column;  ///< exactly one row: the value

    bool is_null() const { return column.is_null(0); }
    /// The text a client receives for it (as a query's result shows it); nullopt for NULL.
    cell text() const;
};

/// Compiles `e` with no columns in scope: a name is error 1054 ("Unknown column 'x' in
/// '<clause>'"); variables and session functions read `s`.
sql_result<expr_ptr> compile_constant(const expr& e, const session& s, std::string clause = "field list");

/// The value of a compiled constant expression.
sql_result<constant_value> evaluate_compiled(const expr_ptr& e);

/// compile_constant, then evaluate_compiled.
sql_result<constant_value> evaluate_constant(const expr& e, const session& s, std::string clause = "field list");

/// A WHERE without FROM: true when `e` is TRUE (FALSE and NULL drop the row, as over a table).
sql_result<bool> constant_condition(const expr& e, const session& s);

}  // namespace tv::sql
