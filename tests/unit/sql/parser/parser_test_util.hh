// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the parser tests: parse exactly one statement of an expected kind, or
// expect a syntax error and get its message.
#pragma once

#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tv::sql::testing {

/// The one statement of `sql`, which must be a T; a test failure (and T{}) otherwise.
template <class T>
T one(std::string_view sql) {
    auto result = parse_sql(sql);
    if (auto* error = std::get_if<parse_error>(&result)) {
        ADD_FAILURE() << "parse failed: " << sql << "\n" << error->message;
        return T{};
    }
    auto& list = std::get<std::vector<parsed_statement>>(result);
    if (list.size() != 1) {
        ADD_FAILURE() << list.size() << " statements in: " << sql;
        return T{};
    }
    auto* stmt = std::get_if<T>(&list[0].stmt);
    if (!stmt) {
        ADD_FAILURE() << "other statement kind (index " << list[0].stmt.index() << ") for: " << sql;
        return T{};
    }
    return std::move(*stmt);
}

/// The syntax error's message for `sql`, which must not parse.
inline std::string error_of(std::string_view sql) {
    auto result = parse_sql(sql);
    if (auto* error = std::get_if<parse_error>(&result)) {
        return error->message;
    }
    ADD_FAILURE() << "expected a syntax error for: " << sql;
    return {};
}

inline bool fails(std::string_view sql) {
    return std::holds_alternative<parse_error>(parse_sql(sql));
}

using names = std::vector<std::string>;

}  // namespace tv::sql::testing
