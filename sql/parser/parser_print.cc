// SPDX-License-Identifier: Apache-2.0
// Prints expressions and data types back as canonical SQL (for SHOW CREATE output, column
// names of generated queries, and tests that check the shape of a parse tree).
#include "io/ascii.hh"
#include "sql/parser/parser_detail.hh"

namespace tv::sql {

namespace {

bool plain_identifier(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;  // a leading digit could read back as a number (1e5)
    }
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
                  u == '$' || u >= 0x80;
        if (!ok) {
            return false;
        }
    }
    return !detail::is_reserved_word(ascii_upper(name));
}

void print_identifier(std::string_view name, std::string& out) {
    if (plain_identifier(name)) {
        out += name;
        return;
    }
    out += '`';
    for (char c : name) {
        if (c == '`') {
            out += '`';
        }
        out += c;
    }
    out += '`';
}

void print_string(std::string_view value, std::string& out) {
    out += '\'';
    for (char c : value) {
        switch (c) {
        case '\'': out += "\\'"; break;
        case '\\': out += "\\\\"; break;
        case '\0': out += "\\0"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\x1a': out += "\\Z"; break;
        default: out += c; break;
        }
    }
    out += '\'';
}

bool niladic(std::string_view name) {
    std::string u = ascii_upper(name);
    return u == "CURRENT_DATE" || u == "CURRENT_TIME" || u == "CURRENT_TIMESTAMP" || u == "CURRENT_USER" ||
           u == "LOCALTIME" || u == "LOCALTIMESTAMP";
}

bool is_number(const expr& e) {
    const auto* l = e.as<literal>();
    return l && (l->kind == literal_kind::integer || l->kind == literal_kind::decimal ||
                 l->kind == literal_kind::floating);
}

// Operator expressions get parentheses when they are operands; -5 stays bare.
bool needs_parentheses(const expr& e) {
    if (const auto* u = e.as<unary_op>()) {
        return u->op == unary_operator::logical_not || !is_number(*u->operand);
    }
    return e.as<binary_op>() || e.as<like_expr>() || e.as<in_expr>() || e.as<between_expr>() ||
           e.as<is_null_expr>();
}

void print(const expr& e, std::string& out);

void print_operand(const expr& e, std::string& out) {
    if (needs_parentheses(e)) {
        out += '(';
        print(e, out);
        out += ')';
    } else {
        print(e, out);
    }
}

void print_list(const std::vector<expr>& list, std::string& out) {
    for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) {
            out += ", ";
        }
        print(list[i], out);
    }
}

struct printer {
    std::string& out;

    void operator()(const literal& l) const {
        switch (l.kind) {
        case literal_kind::null: out += "NULL"; break;
        case literal_kind::string: print_string(l.value, out); break;
        default: out += l.value; break;
        }
    }
    void operator()(const column_ref& c) const {
        if (!c.db.empty()) {
            print_identifier(c.db, out);
            out += '.';
        }
        if (!c.table.empty()) {
            print_identifier(c.table, out);
            out += '.';
        }
        print_identifier(c.column, out);
    }
    void operator()(const variable_ref& v) const {
        switch (v.scope) {
        case variable_scope::user: out += "@"; break;
        case variable_scope::system: out += "@@"; break;
        case variable_scope::session: out += "@@session."; break;
        case variable_scope::global: out += "@@global."; break;
        }
        print_identifier(v.name, out);
    }
    void operator()(const function_call& f) const {
        if (!f.db.empty()) {
            print_identifier(f.db, out);
            out += '.';
        }
        // Reserved names (LEFT, IF, ...) are fine before '(', so only odd characters need quotes.
        if (plain_identifier(f.name) || detail::is_reserved_word(ascii_upper(f.name))) {
            out += f.name;
        } else {
            print_identifier(f.name, out);
        }
        if (f.args.empty() && !f.star && f.db.empty() && niladic(f.name)) {
            return;  // CURRENT_TIMESTAMP and friends, written without parentheses
        }
        out += '(';
        if (f.star) {
            out += '*';
        }
        if (f.distinct) {
            out += "DISTINCT ";
        }
        print_list(f.args, out);
        out += ')';
    }
    void operator()(const unary_op& u) const {
        out += u.op == unary_operator::minus ? "-" : u.op == unary_operator::plus ? "+" : "NOT ";
        if (u.operand->as<unary_op>()) {
            // "- -1" must not print as "--1", which reads back as a comment
            out += '(';
            print(*u.operand, out);
            out += ')';
        } else {
            print_operand(*u.operand, out);
        }
    }
    void operator()(const binary_op& b) const {
        print_operand(*b.left, out);
        out += ' ';
        out += operator_text(b.op);
        out += ' ';
        print_operand(*b.right, out);
    }
    void operator()(const like_expr& l) const {
        print_operand(*l.value, out);
        out += l.negated ? " NOT LIKE " : " LIKE ";
        print_operand(*l.pattern, out);
    }
    void operator()(const in_expr& i) const {
        print_operand(*i.value, out);
        out += i.negated ? " NOT IN (" : " IN (";
        print_list(i.list, out);
        out += ')';
    }
    void operator()(const between_expr& b) const {
        print_operand(*b.value, out);
        out += b.negated ? " NOT BETWEEN " : " BETWEEN ";
        print_operand(*b.low, out);
        out += " AND ";
        print_operand(*b.high, out);
    }
    void operator()(const is_null_expr& i) const {
        print_operand(*i.value, out);
        out += i.negated ? " IS NOT NULL" : " IS NULL";
    }
    void operator()(const cast_expr& c) const {
        out += "CAST(";
        print(*c.value, out);
        out += " AS ";
        out += to_sql(c.type);
        out += ')';
    }
    void operator()(const case_expr& c) const {
        out += "CASE";
        if (c.operand) {
            out += ' ';
            print(**c.operand, out);
        }
        for (const auto& w : c.whens) {
            out += " WHEN ";
            print(*w.condition, out);
            out += " THEN ";
            print(*w.result, out);
        }
        if (c.else_result) {
            out += " ELSE ";
            print(**c.else_result, out);
        }
        out += " END";
    }
    void operator()(const interval_expr& i) const {
        out += "INTERVAL ";
        print_operand(*i.value, out);
        out += ' ';
        out += i.unit;
    }
};

void print(const expr& e, std::string& out) {
    std::visit(printer{out}, e.node);
}

}  // namespace

std::string_view operator_text(binary_operator op) {
    switch (op) {
    case binary_operator::add: return "+";
    case binary_operator::subtract: return "-";
    case binary_operator::multiply: return "*";
    case binary_operator::divide: return "/";
    case binary_operator::int_divide: return "DIV";
    case binary_operator::modulo: return "%";
    case binary_operator::eq: return "=";
    case binary_operator::null_safe_eq: return "<=>";
    case binary_operator::ne: return "<>";
    case binary_operator::lt: return "<";
    case binary_operator::le: return "<=";
    case binary_operator::gt: return ">";
    case binary_operator::ge: return ">=";
    case binary_operator::logical_and: return "AND";
    case binary_operator::logical_or: return "OR";
    case binary_operator::logical_xor: return "XOR";
    }
    return "?";
}

std::string to_sql(const expr& e) {
    std::string out;
    print(e, out);
    return out;
}

std::string to_sql(const data_type& t) {
    std::string out = t.name;
    if (!t.params.empty()) {
        out += '(';
        for (size_t i = 0; i < t.params.size(); ++i) {
            if (i > 0) {
                out += ", ";
            }
            out += std::to_string(t.params[i]);
        }
        out += ')';
    }
    return out;
}

}  // namespace tv::sql
