// SPDX-License-Identifier: Apache-2.0
// Expressions by precedence climbing (MySQL precedence: OR < XOR < AND < NOT < comparison,
// IS, LIKE, IN, BETWEEN < + - < * / % DIV MOD < unary), and data types.
#include "io/ascii.hh"
#include "sql/parser/parser_detail.hh"

#include <algorithm>
#include <climits>

namespace tv::sql::detail {

namespace {

constexpr int prec_or = 1;
constexpr int prec_xor = 2;
constexpr int prec_and = 3;
constexpr int prec_not = 4;
constexpr int prec_compare = 5;
constexpr int prec_add = 7;
constexpr int prec_multiply = 8;
constexpr int prec_unary = 9;

const std::string too_deep = "Expression is too deeply nested (the limit is " +
                             std::to_string(max_expression_depth) + " levels).";

struct binary_info {
    int precedence;
    binary_operator op;
};

std::optional<binary_info> binary_at(const token& t) {
    if (t.kind == token_kind::symbol) {
        const std::string& s = t.value;
        if (s == "||") return binary_info{prec_or, binary_operator::logical_or};
        if (s == "&&") return binary_info{prec_and, binary_operator::logical_and};
        if (s == "=") return binary_info{prec_compare, binary_operator::eq};
        if (s == "<=>") return binary_info{prec_compare, binary_operator::null_safe_eq};
        if (s == "<>" || s == "!=") return binary_info{prec_compare, binary_operator::ne};
        if (s == "<") return binary_info{prec_compare, binary_operator::lt};
        if (s == "<=") return binary_info{prec_compare, binary_operator::le};
        if (s == ">") return binary_info{prec_compare, binary_operator::gt};
        if (s == ">=") return binary_info{prec_compare, binary_operator::ge};
        if (s == "+") return binary_info{prec_add, binary_operator::add};
        if (s == "-") return binary_info{prec_add, binary_operator::subtract};
        if (s == "*") return binary_info{prec_multiply, binary_operator::multiply};
        if (s == "/") return binary_info{prec_multiply, binary_operator::divide};
        if (s == "%") return binary_info{prec_multiply, binary_operator::modulo};
        return std::nullopt;
    }
    if (t.is_keyword("OR")) return binary_info{prec_or, binary_operator::logical_or};
    if (t.is_keyword("XOR")) return binary_info{prec_xor, binary_operator::logical_xor};
    if (t.is_keyword("AND")) return binary_info{prec_and, binary_operator::logical_and};
    if (t.is_keyword("DIV")) return binary_info{prec_multiply, binary_operator::int_divide};
    if (t.is_keyword("MOD")) return binary_info{prec_multiply, binary_operator::modulo};
    return std::nullopt;
}

// Reserved words that still name functions when a '(' follows: LEFT(s, n), IF(c, a, b), ...
bool reserved_function_name(const std::string& u) {
    static constexpr std::string_view names[] = {
        "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DATABASE",
        "IF", "INSERT", "LEFT", "MOD", "RIGHT"};
    return std::find(std::begin(names), std::end(names), u) != std::end(names);
}

// Keyword functions that SQL lets you write without parentheses.
bool niladic_function_name(const std::string& u) {
    static constexpr std::string_view names[] = {"CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
                                                 "CURRENT_USER", "LOCALTIME", "LOCALTIMESTAMP"};
    return std::find(std::begin(names), std::end(names), u) != std::end(names);
}

constexpr std::string_view interval_units[] = {"MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR",
                                               "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"};

struct type_spec {
    std::string_view written;
    std::string_view canonical;
    size_t max_params;
};

constexpr type_spec column_types[] = {
    {"BOOLEAN", "BOOLEAN", 0},     {"BOOL", "BOOLEAN", 0},       {"TINYINT", "TINYINT", 1},
    {"SMALLINT", "SMALLINT", 1},   {"INT", "INT", 1},            {"INTEGER", "INT", 1},
    {"BIGINT", "BIGINT", 1},       {"LARGEINT", "LARGEINT", 1},  {"FLOAT", "FLOAT", 0},
    {"DOUBLE", "DOUBLE", 0},       {"DECIMAL", "DECIMAL", 2},    {"DECIMALV2", "DECIMALV2", 2},
    {"DECIMALV3", "DECIMALV3", 2}, {"DECIMAL32", "DECIMAL32", 2}, {"DECIMAL64", "DECIMAL64", 2},
    {"DECIMAL128", "DECIMAL128", 2}, {"DATE", "DATE", 0},        {"DATETIME", "DATETIME", 0},
    {"CHAR", "CHAR", 1},           {"VARCHAR", "VARCHAR", 1},    {"STRING", "STRING", 0},
    {"JSON", "JSON", 0},           {"BITMAP", "BITMAP", 0},      {"HLL", "HLL", 0},
    {"PERCENTILE", "PERCENTILE", 0}, {"VARBINARY", "VARBINARY", 1},
};

// MySQL's CAST targets beyond the column types.
constexpr type_spec cast_only_types[] = {{"SIGNED", "SIGNED", 0}, {"UNSIGNED", "UNSIGNED", 0}};

}  // namespace

/// Counts nested parse_expr calls; past the limit the statement is refused before the stack is at risk.
class depth_guard {
public:
    explicit depth_guard(parser& p) : _p(p) {
        if (_p._depth >= max_expression_depth) {
            _p.fail_at(_p.peek(), too_deep);
        }
        ++_p._depth;
    }
    ~depth_guard() { --_p._depth; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;

private:
    parser& _p;
};

parser::node parser::make_node(expr value, int child_height) {
    int height = child_height + 1;
    if (height > max_expression_depth) {
        fail_at(peek(), too_deep);
    }
    return node{std::move(value), height};
}

expr parser::parse_expression() {
    return parse_expr(prec_or).value;
}

std::vector<expr> parser::parse_expression_list() {
    std::vector<expr> list;
    do {
        list.push_back(parse_expression());
    } while (accept_symbol(","));
    return list;
}

// The functions on the recursion path (parse_expr, parse_prefix, parse_primary,
// parse_parenthesized) keep only one node in their frames; everything with more locals lives in
// helpers that are off the path of plain nesting, so deep input costs little stack per level.

parser::node parser::parse_expr(int min_precedence) {
    depth_guard guard(*this);
    node left = parse_prefix();
    while (true) {
        if (min_precedence <= prec_compare && parse_predicate_tail(left)) {
            continue;
        }
        auto info = binary_at(peek());
        if (!info || info->precedence < min_precedence) {
            break;
        }
        advance();
        parse_binary_tail(left, info->op, info->precedence);
    }
    return left;
}

[[gnu::noinline]] void parser::parse_binary_tail(node& left, binary_operator op, int precedence) {
    // Left-associative: the right operand binds only tighter operators.
    node right = parse_expr(precedence + 1);
    int h = std::max(left.height, right.height);
    left = make_node(expr{binary_op{op, std::move(left.value), std::move(right.value)}}, h);
}

[[gnu::noinline]] bool parser::parse_predicate_tail(node& left) {
    // [NOT] LIKE / IN / BETWEEN and IS [NOT] NULL share the comparison level.
    size_t k = 0;
    if (is_keyword("NOT") && (is_keyword("LIKE", 1) || is_keyword("IN", 1) || is_keyword("BETWEEN", 1))) {
        k = 1;
    }
    bool negated = k == 1;
    if (!negated && is_keyword("IS")) {
        advance();
        bool is_not = accept_keyword("NOT");
        expect_keyword("NULL");
        left = make_node(expr{is_null_expr{std::move(left.value), is_not}}, left.height);
        return true;
    }
    if (!is_keyword("LIKE", k) && !is_keyword("IN", k) && !is_keyword("BETWEEN", k)) {
        return false;
    }
    if (negated) {
        advance();
    }
    if (is_keyword("LIKE")) {
        advance();
        parse_like_tail(left, negated);
    } else if (is_keyword("IN")) {
        advance();
        parse_in_tail(left, negated);
    } else {
        advance();
        parse_between_tail(left, negated);
    }
    return true;
}

[[gnu::noinline]] void parser::parse_like_tail(node& left, bool negated) {
    node pattern = parse_expr(prec_compare + 1);
    int h = std::max(left.height, pattern.height);
    left = make_node(expr{like_expr{std::move(left.value), std::move(pattern.value), negated}}, h);
}

[[gnu::noinline]] void parser::parse_in_tail(node& left, bool negated) {
    expect_symbol("(");
    int h = left.height;
    std::vector<expr> list;
    do {
        if (list.size() == max_expression_children) {
            fail_at(peek(), "Expression child number exceeded the maximum " +
                                std::to_string(max_expression_children) +
                                " (an IN list may have that many items; use a table and a join for more).");
        }
        node item = parse_expr(prec_or);
        h = std::max(h, item.height);
        list.push_back(std::move(item.value));
    } while (accept_symbol(","));
    expect_symbol(")");
    left = make_node(expr{in_expr{std::move(left.value), std::move(list), negated}}, h);
}

[[gnu::noinline]] void parser::parse_between_tail(node& left, bool negated) {
    node low = parse_expr(prec_compare + 1);
    expect_keyword("AND");
    node high = parse_expr(prec_compare + 1);
    int h = std::max({left.height, low.height, high.height});
    left = make_node(expr{between_expr{std::move(left.value), std::move(low.value), std::move(high.value), negated}},
                     h);
}

parser::node parser::parse_prefix() {
    if (is_keyword("NOT")) {
        advance();
        return parse_unary(unary_operator::logical_not, prec_not);
    }
    if (is_symbol("!")) {
        advance();
        return parse_unary(unary_operator::logical_not, prec_unary);
    }
    if (is_symbol("-") || is_symbol("+")) {
        unary_operator op = advance().value == "-" ? unary_operator::minus : unary_operator::plus;
        return parse_unary(op, prec_unary);
    }
    return parse_primary();
}

[[gnu::noinline]] parser::node parser::parse_unary(unary_operator op, int precedence) {
    node operand = parse_expr(precedence);
    return make_node(expr{unary_op{op, std::move(operand.value)}}, operand.height);
}

parser::node parser::parse_primary() {
    if (is_symbol("(")) {
        return parse_parenthesized();
    }
    return parse_operand();
}

parser::node parser::parse_parenthesized() {
    advance();
    node inner = parse_expr(prec_or);
    expect_symbol(")");
    return inner;
}

[[gnu::noinline]] parser::node parser::parse_operand() {
    const token& t = peek();
    if (t.is_keyword("CASE")) {
        return parse_case();
    }
    if (t.is_keyword("CAST") && is_symbol("(", 1)) {
        return parse_cast();
    }
    if (t.is_keyword("INTERVAL")) {
        return parse_interval();
    }
    if (function_call_ahead()) {
        return parse_function_call();
    }
    return parse_leaf();
}

bool parser::function_call_ahead() const {
    const token& t = peek();
    if (t.kind == token_kind::quoted_identifier) {
        return is_symbol("(", 1) || (is_symbol(".", 1) && is_symbol("(", 3));
    }
    if (t.kind != token_kind::word) {
        return false;
    }
    if (is_symbol("(", 1)) {
        return is_identifier() || reserved_function_name(ascii_upper(t.value));
    }
    // db.f(...)
    const token& second = peek(2);
    return is_identifier() && is_symbol(".", 1) &&
           (second.kind == token_kind::word || second.kind == token_kind::quoted_identifier) && is_symbol("(", 3);
}

[[gnu::noinline]] parser::node parser::parse_leaf() {
    const token& t = peek();
    switch (t.kind) {
    case token_kind::integer:
        return make_node(expr{literal{literal_kind::integer, advance().value}}, 0);
    case token_kind::decimal:
        return make_node(expr{literal{literal_kind::decimal, advance().value}}, 0);
    case token_kind::floating:
        return make_node(expr{literal{literal_kind::floating, advance().value}}, 0);
    case token_kind::string:
        return make_node(expr{literal{literal_kind::string, advance().value}}, 0);
    case token_kind::symbol:
        if (t.is_symbol("@") || t.is_symbol("@@")) {
            return parse_variable();
        }
        break;
    case token_kind::word:
        if (t.is_keyword("NULL")) {
            advance();
            return make_node(expr{literal{literal_kind::null, ""}}, 0);
        }
        if (t.is_keyword("TRUE") || t.is_keyword("FALSE")) {
            return make_node(expr{literal{literal_kind::boolean, ascii_upper(advance().value)}}, 0);
        }
        if (niladic_function_name(ascii_upper(t.value))) {
            function_call call;
            call.name = advance().value;
            return make_node(expr{std::move(call)}, 0);
        }
        if (is_identifier()) {
            return parse_column_ref();
        }
        break;
    case token_kind::quoted_identifier:
        return parse_column_ref();
    case token_kind::end:
        break;
    }
    note("an expression");
    fail();
}

parser::node parser::parse_column_ref() {
    std::vector<std::string> parts;
    parts.push_back(advance().value);
    while (parts.size() < 3 && is_symbol(".")) {
        advance();
        parts.push_back(parse_name_part());
    }
    column_ref ref;
    ref.column = std::move(parts.back());
    if (parts.size() >= 2) {
        ref.table = std::move(parts[parts.size() - 2]);
    }
    if (parts.size() == 3) {
        ref.db = std::move(parts[0]);
    }
    return make_node(expr{std::move(ref)}, 0);
}

[[gnu::noinline]] parser::node parser::parse_function_call() {
    function_call call;
    call.name = advance().value;
    if (is_symbol(".")) {
        advance();
        call.db = std::move(call.name);
        call.name = advance().value;
    }
    expect_symbol("(");
    int h = 0;
    if (accept_symbol(")")) {
        return make_node(expr{std::move(call)}, h);
    }
    if (is_symbol("*") && is_symbol(")", 1)) {
        advance();
        advance();
        call.star = true;
        return make_node(expr{std::move(call)}, h);
    }
    if (accept_keyword("DISTINCT")) {
        call.distinct = true;
    } else {
        accept_keyword("ALL");
    }
    do {
        node arg = parse_expr(prec_or);
        h = std::max(h, arg.height);
        call.args.push_back(std::move(arg.value));
    } while (accept_symbol(","));
    expect_symbol(")");
    return make_node(expr{std::move(call)}, h);
}

parser::node parser::parse_variable() {
    variable_ref ref;
    if (advance().value == "@") {
        ref.scope = variable_scope::user;
        ref.name = peek().kind == token_kind::string ? advance().value : parse_name_part();
        return make_node(expr{std::move(ref)}, 0);
    }
    ref.scope = variable_scope::system;
    ref.name = parse_name_part();
    if (is_symbol(".")) {
        std::string scope = ascii_upper(ref.name);
        if (scope == "SESSION" || scope == "LOCAL") {
            ref.scope = variable_scope::session;
        } else if (scope == "GLOBAL") {
            ref.scope = variable_scope::global;
        } else {
            fail_at(peek(), "Unexpected input '.', a system variable is @@name, @@session.name or @@global.name.");
        }
        advance();
        ref.name = parse_name_part();
    }
    return make_node(expr{std::move(ref)}, 0);
}

parser::node parser::parse_case() {
    expect_keyword("CASE");
    case_expr c;
    int h = 0;
    if (!at_keyword("WHEN")) {
        node operand = parse_expr(prec_or);
        h = operand.height;
        c.operand = box<expr>(std::move(operand.value));
    }
    do {
        expect_keyword("WHEN");
        node condition = parse_expr(prec_or);
        expect_keyword("THEN");
        node result = parse_expr(prec_or);
        h = std::max({h, condition.height, result.height});
        c.whens.push_back(case_when{std::move(condition.value), std::move(result.value)});
    } while (at_keyword("WHEN"));
    if (accept_keyword("ELSE")) {
        node other = parse_expr(prec_or);
        h = std::max(h, other.height);
        c.else_result = box<expr>(std::move(other.value));
    }
    expect_keyword("END");
    return make_node(expr{std::move(c)}, h);
}

parser::node parser::parse_cast() {
    expect_keyword("CAST");
    expect_symbol("(");
    node value = parse_expr(prec_or);
    expect_keyword("AS");
    data_type type = parse_data_type(true);
    expect_symbol(")");
    return make_node(expr{cast_expr{std::move(value.value), std::move(type)}}, value.height);
}

parser::node parser::parse_interval() {
    expect_keyword("INTERVAL");
    node value = parse_expr(prec_add);
    for (auto unit : interval_units) {
        if (accept_keyword(unit)) {
            return make_node(expr{interval_expr{std::move(value.value), std::string(unit)}}, value.height);
        }
    }
    fail();
}

data_type parser::parse_data_type(bool for_cast) {
    const token& t = peek();
    const type_spec* spec = nullptr;
    for (const auto& s : column_types) {
        note(s.written);
        if (!spec && t.is_keyword(s.written)) {
            spec = &s;
        }
    }
    if (for_cast) {
        for (const auto& s : cast_only_types) {
            note(s.written);
            if (!spec && t.is_keyword(s.written)) {
                spec = &s;
            }
        }
    }
    if (!spec) {
        fail();
    }
    advance();
    data_type type{std::string(spec->canonical), {}};
    if (spec->canonical == "SIGNED" || spec->canonical == "UNSIGNED") {
        if (!accept_keyword("INTEGER")) {
            accept_keyword("INT");
        }
        return type;
    }
    if (spec->max_params > 0 && accept_symbol("(")) {
        do {
            const token& p = peek();
            uint64_t value = parse_unsigned();
            if (value > static_cast<uint64_t>(INT_MAX)) {
                fail_at(p, "Type parameter '" + p.value + "' is out of range.");
            }
            type.params.push_back(static_cast<int>(value));
        } while (type.params.size() < spec->max_params && accept_symbol(","));
        expect_symbol(")");
    }
    return type;
}

}  // namespace tv::sql::detail
