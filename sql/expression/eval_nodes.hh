// SPDX-License-Identifier: Apache-2.0
// Building blocks of compiled expressions, shared by the compiler and the function families:
// constants, column references, nodes that run a kernel over their evaluated arguments (folded
// at compile time when every argument is constant), and the type rules.
#pragma once

#include "sql/expression/eval_vector.hh"

#include <functional>
#include <string_view>

namespace tv::sql {

/// What a kernel gets: its evaluated arguments, and how many rows to produce (`n`, which is 1
/// when every argument is constant and the result is then constant too).
struct kernel_args {
    std::span<const value_vector> args;
    size_t n = 0;
    bool constant = false;
    const compiled_expr& self;
    const std::string& text;  ///< the expression as SQL, for error messages
};

using kernel = std::function<sql_result<value_vector>(const kernel_args&)>;

/// A node evaluating `args` then `run`; folded into a constant now when all args are constant.
sql_result<expr_ptr> make_node(storage::column_type type, bool nullable, std::vector<expr_ptr> args, kernel run,
                               std::string text);

/// The NULL literal: typed BOOLEAN until a context converts it.
expr_ptr make_null_literal();
/// A reference to batch column `slot`.
expr_ptr make_column(size_t slot, const storage::column_desc& desc);
/// A constant from an evaluated one-row column.
expr_ptr make_constant_column(storage::column_type type, storage::column_vector one_row, bool null_literal = false);

/// Result helpers for kernels.
inline sql_result<value_vector> result(storage::column_vector c, const kernel_args& k) {
    return value_vector::own(std::move(c), k.constant);
}

// ---- type rules ---------------------------------------------------------------------------

namespace types {

using storage::column_type;
using storage::type_kind;

bool is_integral(const column_type& t);  ///< BOOLEAN, TINYINT .. BIGINT (not LARGEINT)
bool is_exact(const column_type& t);     ///< integral, LARGEINT or DECIMAL
bool is_numeric(const column_type& t);   ///< exact or FLOAT/DOUBLE
bool is_string(const column_type& t);    ///< CHAR, VARCHAR, STRING, JSON
bool is_temporal(const column_type& t);  ///< DATE, DATETIME

column_type decimal(int precision, int scale);
/// The DECIMAL an exact integer type converts to in decimal arithmetic (BIGINT -> (18, 0)).
column_type as_decimal(const column_type& t);
/// The type CASE, COALESCE, IF and IN bring their values to; nullopt when they do not mix.
std::optional<column_type> common(const column_type& a, const column_type& b);
/// The type both sides of a comparison are brought to.
column_type comparison(const column_type& a, const column_type& b, bool equality);

}  // namespace types

/// Converts unless `e` already has type `t` (the NULL literal becomes a NULL of `t`).
sql_result<expr_ptr> convert_if_needed(expr_ptr e, const storage::column_type& t);

// ---- families, each returning nullopt for a name it does not know ---------------------------

sql_result<expr_ptr> make_arithmetic(binary_operator op, expr_ptr l, expr_ptr r, std::string text);
sql_result<expr_ptr> make_negate(expr_ptr e, std::string text);
sql_result<expr_ptr> make_comparison(binary_operator op, expr_ptr l, expr_ptr r, std::string text);
sql_result<expr_ptr> make_logic(binary_operator op, expr_ptr l, expr_ptr r, std::string text);
sql_result<expr_ptr> make_not(expr_ptr e, std::string text);
sql_result<expr_ptr> make_is_null(expr_ptr e, bool negated, std::string text);
/// value [NOT] IN (constants): one hash lookup per row.
sql_result<expr_ptr> make_in(expr_ptr value, std::vector<expr_ptr> items, bool negated, std::string text);
sql_result<expr_ptr> make_like(expr_ptr value, expr_ptr pattern, bool negated, std::string text);
/// CASE over already-compiled parts: conditions are BOOLEAN; results take their common type.
sql_result<expr_ptr> make_case(std::vector<expr_ptr> conditions, std::vector<expr_ptr> results, expr_ptr otherwise,
                               std::string text);
sql_result<expr_ptr> make_coalesce(std::vector<expr_ptr> args, std::string text);
/// Date arithmetic: `date` plus (or minus) `amount` units ("DAY", "MONTH", ...).
sql_result<expr_ptr> make_date_add(expr_ptr date, expr_ptr amount, std::string unit, bool subtract, std::string text);

using function_args = std::vector<expr_ptr>;
std::optional<sql_result<expr_ptr>> make_string_function(std::string_view name, function_args& args,
                                                         const std::string& text);
std::optional<sql_result<expr_ptr>> make_math_function(std::string_view name, function_args& args,
                                                       const std::string& text);
std::optional<sql_result<expr_ptr>> make_date_function(std::string_view name, function_args& args,
                                                       const std::string& text);
std::optional<sql_result<expr_ptr>> make_hash_function(std::string_view name, function_args& args,
                                                       const std::string& text);
/// DATABASE(), CONNECTION_ID(), USER(), NOW(), ...: constants read from the session. The caller
/// passes only constant arguments.
std::optional<sql_result<expr_ptr>> make_session_function(std::string_view name, const function_args& args,
                                                          const session& s);
/// @user (VARCHAR, NULL when never set) and @@system variables (error 1193 when unknown).
sql_result<expr_ptr> make_variable(const variable_ref& v, const session& s);

/// Error 1582 for a call with the wrong number of arguments.
sql_error wrong_arg_count(std::string_view name);
/// "No matching function with signature: f(INT, VARCHAR)."
sql_error no_matching_function(std::string_view name, const function_args& args);

}  // namespace tv::sql
