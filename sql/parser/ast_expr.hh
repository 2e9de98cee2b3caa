// SPDX-License-Identifier: Apache-2.0
// AST building blocks: names, user identities, property lists, data types and the expression
// tree. Plain structs with value semantics (copyable, movable, comparable with ==).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tv::sql {

/// `[[catalog.]db.]name`. Parts not written are empty. Identifiers keep the case the user
/// wrote, without backquotes; resolving case is the executor's job.
struct qualified_name {
    std::string db;
    std::string name;
    std::string catalog;  ///< only in three-part names: default_catalog.db.t

    bool operator==(const qualified_name&) const = default;
};

/// 'name'@'host' as in MySQL. `'u'`, `u` and `u@'h'` are accepted too; host is "%" when absent.
struct user_identity {
    std::string name;
    std::string host = "%";

    bool operator==(const user_identity&) const = default;
};

/// PROPERTIES ("k" = "v", ...): in the order written, duplicates kept, keys not case-folded.
using property_list = std::vector<std::pair<std::string, std::string>>;

/// A column or CAST type. `name` is canonical upper case: INTEGER is folded to INT and BOOL to
/// BOOLEAN; the DECIMAL family (DECIMALV2, DECIMALV3, DECIMAL32/64/128) keeps its own names.
/// `params` are the numbers in parentheses: VARCHAR(10) -> {10}, DECIMAL(10, 2) -> {10, 2},
/// INT(11) -> {11} (the display width StarRocks prints in SHOW CREATE TABLE).
struct data_type {
    std::string name;
    std::vector<int> params;

    bool operator==(const data_type&) const = default;
};

/// Owns one heap `T` with value semantics (copy = deep copy), so recursive expression nodes
/// stay plain copyable structs. Never null unless moved from.
template <class T>
class box {
public:
    box() : _value(std::make_unique<T>()) {}
    box(T value) : _value(std::make_unique<T>(std::move(value))) {}  // NOLINT: implicit on purpose
    box(const box& other) : _value(other._value ? std::make_unique<T>(*other._value) : nullptr) {}
    box(box&&) noexcept = default;
    box& operator=(const box& other) {
        if (this != &other) {
            _value = other._value ? std::make_unique<T>(*other._value) : nullptr;
        }
        return *this;
    }
    box& operator=(box&&) noexcept = default;
    ~box() = default;

    T& operator*() noexcept { return *_value; }
    const T& operator*() const noexcept { return *_value; }
    T* operator->() noexcept { return _value.get(); }
    const T* operator->() const noexcept { return _value.get(); }

    bool operator==(const box& other) const {
        if (!_value || !other._value) {
            return _value == other._value;
        }
        return *_value == *other._value;
    }

private:
    std::unique_ptr<T> _value;
};

struct expr;

enum class literal_kind : uint8_t { null, boolean, integer, decimal, floating, string };

/// A constant. Numbers keep their digits as written and carry no sign (`-5` is a unary minus
/// over 5), so LARGEINT values beyond 64 bits survive. Strings are decoded. Booleans hold
/// "TRUE" or "FALSE"; NULL holds "".
struct literal {
    literal_kind kind = literal_kind::null;
    std::string value;

    bool operator==(const literal&) const = default;
};

/// `c`, `t.c` or `db.t.c`; parts not written are empty.
struct column_ref {
    std::string db;
    std::string table;
    std::string column;

    bool operator==(const column_ref&) const = default;
};

enum class variable_scope : uint8_t {
    user,     ///< @x
    system,   ///< @@x, or a bare name in SET / SHOW VARIABLES: session first, as MySQL does
    session,  ///< @@session.x, @@local.x, SET SESSION x, SET LOCAL x
    global,   ///< @@global.x, SET GLOBAL x
};

struct variable_ref {
    variable_scope scope = variable_scope::system;
    std::string name;  ///< without @, @@ or scope prefix

    bool operator==(const variable_ref&) const = default;
};

/// f(args), db.f(args), COUNT(*), COUNT(DISTINCT x). Keyword functions written without
/// parentheses (CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_USER, ...) are calls with no args.
struct function_call {
    std::string db;
    std::string name;  ///< as written; compare case-insensitively
    std::vector<expr> args;
    bool distinct = false;
    bool star = false;  ///< COUNT(*): args is empty

    bool operator==(const function_call&) const = default;
};

enum class unary_operator : uint8_t { minus, plus, logical_not };

struct unary_op {
    unary_operator op = unary_operator::minus;
    box<expr> operand;

    bool operator==(const unary_op&) const = default;
};

enum class binary_operator : uint8_t {
    add,
    subtract,
    multiply,
    divide,      ///< /
    int_divide,  ///< DIV
    modulo,      ///< % and MOD
    eq,
    null_safe_eq,  ///< <=>
    ne,            ///< <> and !=
    lt,
    le,
    gt,
    ge,
    logical_and,  ///< AND, &&
    logical_or,   ///< OR, ||
    logical_xor,
};

struct binary_op {
    binary_operator op = binary_operator::add;
    box<expr> left;
    box<expr> right;

    bool operator==(const binary_op&) const = default;
};

/// value [NOT] LIKE pattern
struct like_expr {
    box<expr> value;
    box<expr> pattern;
    bool negated = false;

    bool operator==(const like_expr&) const = default;
};

/// value [NOT] IN (list...)
struct in_expr {
    box<expr> value;
    std::vector<expr> list;
    bool negated = false;

    bool operator==(const in_expr&) const = default;
};

/// value [NOT] BETWEEN low AND high
struct between_expr {
    box<expr> value;
    box<expr> low;
    box<expr> high;
    bool negated = false;

    bool operator==(const between_expr&) const = default;
};

/// value IS [NOT] NULL
struct is_null_expr {
    box<expr> value;
    bool negated = false;

    bool operator==(const is_null_expr&) const = default;
};

/// CAST(value AS type). Besides the column types, CAST accepts SIGNED and UNSIGNED (MySQL).
struct cast_expr {
    box<expr> value;
    data_type type;

    bool operator==(const cast_expr&) const = default;
};

struct case_when {
    box<expr> condition;
    box<expr> result;

    bool operator==(const case_when&) const = default;
};

/// CASE [operand] WHEN ... THEN ... [ELSE ...] END
struct case_expr {
    std::optional<box<expr>> operand;
    std::vector<case_when> whens;
    std::optional<box<expr>> else_result;

    bool operator==(const case_expr&) const = default;
};

/// INTERVAL value unit; unit in upper case: MICROSECOND, MILLISECOND, SECOND, MINUTE, HOUR,
/// DAY, WEEK, MONTH, QUARTER, YEAR.
struct interval_expr {
    box<expr> value;
    std::string unit;

    bool operator==(const interval_expr&) const = default;
};

struct expr {
    using node_type = std::variant<literal, column_ref, variable_ref, function_call, unary_op, binary_op,
                                   like_expr, in_expr, between_expr, is_null_expr, cast_expr, case_expr,
                                   interval_expr>;
    node_type node;

    template <class T>
    const T* as() const noexcept {
        return std::get_if<T>(&node);
    }
    template <class T>
    T* as() noexcept {
        return std::get_if<T>(&node);
    }
    bool operator==(const expr&) const = default;
};

/// Canonical SQL for an expression: keywords upper case, identifiers backquoted only when they
/// need it, strings single-quoted, and every operand that is itself an operator expression in
/// parentheses (so `a + b * c` prints as `a + (b * c)`): unambiguous without precedence rules.
std::string to_sql(const expr& e);
std::string to_sql(const data_type& t);
/// "+", "DIV", "<=>", "AND", ...
std::string_view operator_text(binary_operator op);

}  // namespace tv::sql
