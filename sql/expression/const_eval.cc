// SPDX-License-Identifier: Apache-2.0
// The constant evaluator: literals, variables, session functions, arithmetic, comparisons,
// logic, LIKE / IN / BETWEEN / IS NULL, CAST and CASE.
#include "io/ascii.hh"
#include "sql/expression/const_eval.hh"

#include "sql/expression/like.hh"
#include "sql/variables.hh"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <ctime>

namespace tv::sql {

namespace {

using result = sql_result<scalar>;

bool is_error(const result& r) {
    return !r;
}

double as_double(const scalar& v) {
    switch (v.kind) {
    case scalar::type::integer: return static_cast<double>(v.integer);
    case scalar::type::floating: return v.floating;
    case scalar::type::decimal:
    case scalar::type::string: {
        double d = 0;
        std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);  // MySQL: leading number, else 0
        return d;
    }
    case scalar::type::null: return 0;
    }
    return 0;
}

bool is_exact(const scalar& v) {
    return v.kind == scalar::type::integer;
}

std::string text_of(const scalar& v) {
    return v.to_cell().value_or("");
}

/// -1, 0, 1: numerically when either side is a number, else as text.
int compare(const scalar& a, const scalar& b) {
    if (a.kind == scalar::type::string && b.kind == scalar::type::string) {
        return a.text < b.text ? -1 : (a.text > b.text ? 1 : 0);
    }
    if (is_exact(a) && is_exact(b)) {
        return a.integer < b.integer ? -1 : (a.integer > b.integer ? 1 : 0);
    }
    double x = as_double(a);
    double y = as_double(b);
    return x < y ? -1 : (x > y ? 1 : 0);
}

/// A double as BIGINT, truncated toward zero; out of range (or NaN) is error 1690 rather than
/// undefined behaviour.
sql_result<scalar> to_bigint(double v, std::string_view what) {
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
        return make_error(errc::out_of_range, "BIGINT value is out of range in {} of {}", what, v);
    }
    return scalar::of(static_cast<int64_t>(v));
}

/// No string value may outgrow what one packet can carry back to the client.
constexpr size_t max_string_value = 64u << 20;

scalar boolean(bool b) {
    return scalar::of(int64_t{b ? 1 : 0});
}

std::string now_text() {
    time_t t = ::time(nullptr);
    tm utc{};
    ::gmtime_r(&t, &utc);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                       utc.tm_hour, utc.tm_min, utc.tm_sec);
}

class evaluator {
public:
    evaluator(const session& s, const column_binding& columns) : _session(s), _columns(columns) {}

    result eval(const expr& e) {
        return std::visit([this](const auto& node) { return this->node(node); }, e.node);
    }

private:
    result node(const literal& l) {
        switch (l.kind) {
        case literal_kind::null: return scalar::null();
        case literal_kind::boolean: return boolean(l.value == "TRUE");
        case literal_kind::integer: {
            int64_t v = 0;
            auto [end, ec] = std::from_chars(l.value.data(), l.value.data() + l.value.size(), v);
            if (ec == std::errc{} && end == l.value.data() + l.value.size()) {
                return scalar::of(v);
            }
            return scalar{scalar::type::decimal, 0, 0, l.value};  // beyond 64 bits: keep the digits
        }
        case literal_kind::decimal: return scalar{scalar::type::decimal, 0, 0, l.value};
        case literal_kind::floating: {
            double v = 0;
            auto [end, ec] = std::from_chars(l.value.data(), l.value.data() + l.value.size(), v);
            if (ec != std::errc{} || !std::isfinite(v)) {
                return make_error(errc::out_of_range, "DOUBLE value is out of range in '{}'", l.value);
            }
            return scalar::of(v);
        }
        case literal_kind::string: return scalar::of(l.value);
        }
        return scalar::null();
    }

    result node(const column_ref& c) {
        if (_columns) {
            if (auto v = _columns(c.column)) {
                return *v;
            }
        }
        return make_error(errc::bad_field, "Unknown column '{}' in 'field list'", c.column);
    }

    result node(const variable_ref& v) {
        if (v.scope == variable_scope::user) {
            auto it = _session.user_variables.find(ascii_lower(v.name));
            if (it == _session.user_variables.end() || !it->second) {
                return scalar::null();
            }
            return scalar::of(*it->second);
        }
        const system_variable* known = find_system_variable(v.name);
        if (known == nullptr) {
            return make_error(errc::unknown_system_variable, "Unknown system variable '{}'", v.name);
        }
        std::string value = v.scope == variable_scope::global ? std::string(known->default_value)
                                                              : *variable_value(_session, v.name);
        if (known->numeric) {
            int64_t n = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec == std::errc{} && end == value.data() + value.size()) {
                return scalar::of(n);
            }
        }
        return scalar::of(std::move(value));
    }

    result node(const function_call& f) {
        const std::string name = ascii_lower(f.name);
        std::vector<scalar> args;
        for (const auto& a : f.args) {
            auto v = eval(a);
            if (is_error(v)) {
                return v;
            }
            args.push_back(std::move(*v));
        }
        auto arity = [&](size_t n) { return args.size() == n; };
        if ((name == "database" || name == "schema") && arity(0)) {
            return _session.current_db.empty() ? scalar::null() : scalar::of(_session.current_db);
        }
        if (name == "connection_id" && arity(0)) {
            return scalar::of(int64_t{_session.connection_id});
        }
        if ((name == "user" || name == "session_user" || name == "system_user") && arity(0)) {
            return scalar::of(fmt::format("{}@{}", _session.user, _session.client_host));
        }
        if (name == "current_user" && arity(0)) {
            return scalar::of(fmt::format("'{}'@'{}'", _session.user, _session.host));
        }
        if (name == "version" && arity(0)) {
            return scalar::of(*variable_value(_session, "version"));
        }
        if ((name == "now" || name == "current_timestamp" || name == "localtime" || name == "sysdate") &&
            args.size() <= 1) {
            return scalar::of(now_text());
        }
        if ((name == "curdate" || name == "current_date") && arity(0)) {
            return scalar::of(now_text().substr(0, 10));
        }
        if (name == "concat") {
            std::string out;
            for (const auto& a : args) {
                if (a.is_null()) {
                    return scalar::null();
                }
                out += text_of(a);
                if (out.size() > max_string_value) {
                    return make_error(errc::unknown, "Result of concat() was larger than max_allowed_packet ({})",
                                      max_string_value);
                }
            }
            return scalar::of(std::move(out));
        }
        if ((name == "upper" || name == "ucase") && arity(1)) {
            return args[0].is_null() ? scalar::null() : scalar::of(ascii_upper(text_of(args[0])));
        }
        if ((name == "lower" || name == "lcase") && arity(1)) {
            return args[0].is_null() ? scalar::null() : scalar::of(ascii_lower(text_of(args[0])));
        }
        if ((name == "length" || name == "octet_length") && arity(1)) {
            return args[0].is_null() ? scalar::null() : scalar::of(static_cast<int64_t>(text_of(args[0]).size()));
        }
        if ((name == "char_length" || name == "character_length") && arity(1)) {
            if (args[0].is_null()) {
                return scalar::null();
            }
            int64_t characters = 0;
            for (unsigned char c : text_of(args[0])) {
                characters += (c & 0xc0) != 0x80;  // count UTF-8 lead bytes, not continuation bytes
            }
            return scalar::of(characters);
        }
        if ((name == "ifnull" && arity(2)) || name == "coalesce") {
            for (const auto& a : args) {
                if (!a.is_null()) {
                    return a;
                }
            }
            return scalar::null();
        }
        if (name == "abs" && arity(1)) {
            if (args[0].is_null()) {
                return scalar::null();
            }
            if (is_exact(args[0])) {
                if (args[0].integer == INT64_MIN) {
                    return make_error(errc::out_of_range, "BIGINT value is out of range in 'abs({})'", args[0].integer);
                }
                return scalar::of(std::abs(args[0].integer));
            }
            return scalar::of(std::fabs(as_double(args[0])));
        }
        return make_error(errc::unknown, "FUNCTION {} does not exist or takes other arguments", f.name);
    }

    result node(const unary_op& u) {
        auto v = eval(*u.operand);
        if (is_error(v)) {
            return v;
        }
        const scalar& x = *v;
        if (x.is_null()) {
            return scalar::null();
        }
        switch (u.op) {
        case unary_operator::minus:
            if (is_exact(x)) {
                if (x.integer == INT64_MIN) {
                    return make_error(errc::out_of_range, "BIGINT value is out of range in '-({})'", x.integer);
                }
                return scalar::of(-x.integer);
            }
            return scalar::of(-as_double(x));
        case unary_operator::plus: return x;
        case unary_operator::logical_not: return boolean(!*truth(x));
        }
        return scalar::null();
    }

    result node(const binary_op& b) {
        auto l = eval(*b.left);
        if (is_error(l)) {
            return l;
        }
        auto r = eval(*b.right);
        if (is_error(r)) {
            return r;
        }
        const scalar& x = *l;
        const scalar& y = *r;
        switch (b.op) {
        case binary_operator::logical_and: {
            auto tx = truth(x);
            auto ty = truth(y);
            if ((tx && !*tx) || (ty && !*ty)) {
                return boolean(false);
            }
            return (tx && ty) ? boolean(true) : scalar::null();
        }
        case binary_operator::logical_or: {
            auto tx = truth(x);
            auto ty = truth(y);
            if ((tx && *tx) || (ty && *ty)) {
                return boolean(true);
            }
            return (tx && ty) ? boolean(false) : scalar::null();
        }
        case binary_operator::null_safe_eq:
            if (x.is_null() || y.is_null()) {
                return boolean(x.is_null() && y.is_null());
            }
            return boolean(compare(x, y) == 0);
        default: break;
        }
        if (x.is_null() || y.is_null()) {
            return scalar::null();
        }
        if (is_exact(x) && is_exact(y) &&
            (b.op == binary_operator::add || b.op == binary_operator::subtract || b.op == binary_operator::multiply)) {
            int64_t out = 0;
            bool overflow = b.op == binary_operator::add        ? __builtin_add_overflow(x.integer, y.integer, &out)
                            : b.op == binary_operator::subtract ? __builtin_sub_overflow(x.integer, y.integer, &out)
                                                                : __builtin_mul_overflow(x.integer, y.integer, &out);
            if (overflow) {
                return make_error(errc::out_of_range, "BIGINT value is out of range in '({} {} {})'", x.integer,
                                  operator_text(b.op), y.integer);
            }
            return scalar::of(out);
        }
        switch (b.op) {
        case binary_operator::add: return scalar::of(as_double(x) + as_double(y));
        case binary_operator::subtract: return scalar::of(as_double(x) - as_double(y));
        case binary_operator::multiply: return scalar::of(as_double(x) * as_double(y));
        case binary_operator::divide:
            return as_double(y) == 0 ? scalar::null() : scalar::of(as_double(x) / as_double(y));
        case binary_operator::int_divide: {
            if (is_exact(x) && is_exact(y)) {
                if (y.integer == 0) {
                    return scalar::null();
                }
                if (x.integer == INT64_MIN && y.integer == -1) {
                    return make_error(errc::out_of_range, "BIGINT value is out of range in '({} DIV {})'", x.integer,
                                      y.integer);
                }
                return scalar::of(x.integer / y.integer);
            }
            if (as_double(y) == 0) {
                return scalar::null();
            }
            return to_bigint(as_double(x) / as_double(y), "DIV");
        }
        case binary_operator::modulo:
            if (is_exact(x) && is_exact(y)) {
                if (y.integer == 0) {
                    return scalar::null();
                }
                // INT64_MIN % -1 traps on x86 (idiv overflow); the answer is 0.
                return scalar::of(y.integer == -1 ? int64_t{0} : x.integer % y.integer);
            }
            return as_double(y) == 0 ? scalar::null() : scalar::of(std::fmod(as_double(x), as_double(y)));
        case binary_operator::eq: return boolean(compare(x, y) == 0);
        case binary_operator::ne: return boolean(compare(x, y) != 0);
        case binary_operator::lt: return boolean(compare(x, y) < 0);
        case binary_operator::le: return boolean(compare(x, y) <= 0);
        case binary_operator::gt: return boolean(compare(x, y) > 0);
        case binary_operator::ge: return boolean(compare(x, y) >= 0);
        case binary_operator::logical_xor: return boolean(*truth(x) != *truth(y));
        default: return scalar::null();
        }
    }

    result node(const like_expr& l) {
        auto v = eval(*l.value);
        auto p = eval(*l.pattern);
        if (is_error(v)) return v;
        if (is_error(p)) return p;
        const auto& x = *v;
        const auto& y = *p;
        if (x.is_null() || y.is_null()) {
            return scalar::null();
        }
        return boolean(like_match(text_of(x), text_of(y)) != l.negated);
    }

    result node(const in_expr& in) {
        auto v = eval(*in.value);
        if (is_error(v)) {
            return v;
        }
        const auto& x = *v;
        if (x.is_null()) {
            return scalar::null();
        }
        bool saw_null = false;
        for (const auto& item : in.list) {
            auto c = eval(item);
            if (is_error(c)) {
                return c;
            }
            const auto& y = *c;
            if (y.is_null()) {
                saw_null = true;
            } else if (compare(x, y) == 0) {
                return boolean(!in.negated);
            }
        }
        return saw_null ? scalar::null() : boolean(in.negated);
    }

    result node(const between_expr& b) {
        auto v = eval(*b.value);
        auto lo = eval(*b.low);
        auto hi = eval(*b.high);
        for (auto* r : {&v, &lo, &hi}) {
            if (is_error(*r)) {
                return *r;
            }
        }
        const auto& x = *v;
        const auto& l = *lo;
        const auto& h = *hi;
        if (x.is_null() || l.is_null() || h.is_null()) {
            return scalar::null();
        }
        return boolean((compare(x, l) >= 0 && compare(x, h) <= 0) != b.negated);
    }

    result node(const is_null_expr& n) {
        auto v = eval(*n.value);
        if (is_error(v)) {
            return v;
        }
        return boolean(v->is_null() != n.negated);
    }

    result node(const cast_expr& c) {
        auto v = eval(*c.value);
        if (is_error(v)) {
            return v;
        }
        const auto& x = *v;
        if (x.is_null()) {
            return x;
        }
        const std::string& t = c.type.name;
        if (t == "SIGNED" || t == "UNSIGNED" || t == "INT" || t == "BIGINT" || t == "TINYINT" || t == "SMALLINT") {
            return is_exact(x) ? x : to_bigint(as_double(x), "CAST");
        }
        if (t == "DOUBLE" || t == "FLOAT") {
            return scalar::of(as_double(x));
        }
        return scalar::of(text_of(x));
    }

    result node(const case_expr& c) {
        std::optional<scalar> operand;
        if (c.operand) {
            auto v = eval(**c.operand);
            if (is_error(v)) {
                return v;
            }
            operand = std::move(*v);
        }
        for (const auto& w : c.whens) {
            auto cond = eval(*w.condition);
            if (is_error(cond)) {
                return cond;
            }
            const auto& k = *cond;
            bool hit = operand ? (!operand->is_null() && !k.is_null() && compare(*operand, k) == 0)
                               : truth(k).value_or(false);
            if (hit) {
                return eval(*w.result);
            }
        }
        return c.else_result ? eval(**c.else_result) : scalar::null();
    }

    result node(const interval_expr&) {
        return make_error(errc::parse, "INTERVAL is only valid in date arithmetic and REFRESH clauses");
    }

    const session& _session;
    const column_binding& _columns;
};

}  // namespace

cell scalar::to_cell() const {
    switch (kind) {
    case type::null: return std::nullopt;
    case type::integer: return std::to_string(integer);
    case type::floating: {
        std::string s = fmt::format("{}", floating);
        return s;
    }
    case type::decimal:
    case type::string: return text;
    }
    return std::nullopt;
}

column_kind scalar::to_column_kind() const {
    switch (kind) {
    case type::integer: return column_kind::bigint;
    case type::floating: return column_kind::double_;
    case type::decimal: return column_kind::decimal;
    default: return column_kind::varchar;
    }
}

std::optional<bool> truth(const scalar& v) {
    if (v.is_null()) {
        return std::nullopt;
    }
    if (is_exact(v)) {
        return v.integer != 0;
    }
    return as_double(v) != 0;
}

sql_result<scalar> evaluate_constant(const expr& e, const session& s, const column_binding& columns) {
    return evaluator(s, columns).eval(e);
}

}  // namespace tv::sql
