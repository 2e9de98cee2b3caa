// SPDX-License-Identifier: Apache-2.0
// SQL parser: one COM_QUERY string in, its statements as typed AST (or one syntax error) out.
#pragma once

#include "sql/parser/ast.hh"

#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tv::sql {

/// A syntax error, worded as StarRocks words them. `message` is the complete text for the
/// client, e.g.
///   Getting syntax error at line 1, column 8. Detail message: Unexpected input 'TABEL', the most similar input is {TABLE, ...}.
///   Getting syntax error at line 1, column 10. Detail message: Unexpected end of input, expected ')'.
/// `line` and `column` are 1-based and count characters. StarRocks counts columns from 0, so
/// for the same input our column is one more than theirs. `near` is the offending token as
/// written, cut to 64 bytes; it is empty at the end of input.
struct parse_error {
    std::string message;
    int line = 1;
    int column = 1;
    std::string near;
};

struct parsed_statement {
    statement stmt;
    /// Exact source text of the statement, from its first token to its last: no surrounding
    /// whitespace or comments, no ';'.
    std::string text;
};

/// Parses every statement of `sql` (separated by ';'). Empty statements (";;", only
/// comments) are skipped, so an empty result is not an error. Either every statement parses or
/// the first error is returned, as StarRocks does: nothing of a multi-statement query runs
/// when any part of it is malformed.
std::variant<std::vector<parsed_statement>, parse_error> parse_sql(std::string_view sql);

/// Parenthesis / operator nesting allowed in one expression, and the deepest expression tree
/// the parser builds. Deeper input is a syntax error, so neither the parser nor anyone walking
/// the tree afterwards (destructors included) can run out of stack.
inline constexpr int max_expression_depth = 1000;

/// Items one expression may list (IN lists), StarRocks' expr_children_limit default. A longer
/// list is refused while it is parsed, before it costs memory or planning time.
inline constexpr size_t max_expression_children = 10000;

}  // namespace tv::sql
