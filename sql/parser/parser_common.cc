// SPDX-License-Identifier: Apache-2.0
// Grammar pieces every statement family uses: identifiers, qualified names, literals,
// PROPERTIES, user identities, IF [NOT] EXISTS, and the LIKE / WHERE / ORDER BY / LIMIT tails.
#include "io/ascii.hh"
#include "sql/parser/parser_detail.hh"

#include <charconv>

namespace tv::sql::detail {

namespace {

}  // namespace

bool parser::is_identifier(size_t ahead) const {
    const token& t = peek(ahead);
    if (t.kind == token_kind::quoted_identifier) {
        return true;
    }
    return t.kind == token_kind::word && !is_reserved_word(ascii_upper(t.value));
}

std::string parser::parse_identifier() {
    note("a legal identifier");
    if (!is_identifier()) {
        fail();
    }
    return advance().value;
}

std::string parser::parse_name_part() {
    note("a legal identifier");
    const token& t = peek();
    if (t.kind != token_kind::word && t.kind != token_kind::quoted_identifier) {
        fail();
    }
    return advance().value;
}

std::string parser::parse_identifier_or_string() {
    if (peek().kind == token_kind::string) {
        return advance().value;
    }
    note("a string");
    return parse_identifier();
}

qualified_name parser::parse_qualified_name() {
    std::vector<std::string> parts;
    parts.push_back(parse_identifier());
    // The dot is checked without noting it as expected: after every name, a "'.'" candidate
    // would only clutter error messages.
    while (parts.size() < 3 && is_symbol(".")) {
        advance();
        parts.push_back(parse_name_part());
    }
    qualified_name name;
    name.name = std::move(parts.back());
    if (parts.size() >= 2) {
        name.db = std::move(parts[parts.size() - 2]);
    }
    if (parts.size() == 3) {
        name.catalog = std::move(parts[0]);
    }
    return name;
}

std::vector<std::string> parser::parse_identifier_list() {
    expect_symbol("(");
    std::vector<std::string> names;
    do {
        names.push_back(parse_identifier());
    } while (accept_symbol(","));
    expect_symbol(")");
    return names;
}

std::vector<std::string> parser::parse_partition_names() {
    // After PARTITION / PARTITIONS: `(p1, p2)`, or one bare name.
    if (at_symbol("(")) {
        return parse_identifier_list();
    }
    return {parse_identifier()};
}

std::string parser::parse_string() {
    note("a string");
    if (peek().kind != token_kind::string) {
        fail();
    }
    return advance().value;
}

uint64_t parser::parse_unsigned() {
    note("an integer");
    const token& t = peek();
    if (t.kind != token_kind::integer) {
        fail();
    }
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(t.value.data(), t.value.data() + t.value.size(), value);
    if (ec != std::errc() || end != t.value.data() + t.value.size()) {
        fail_at(t, "Integer value '" + t.value + "' is out of range.");
    }
    advance();
    return value;
}

int64_t parser::parse_int64() {
    const token& t = peek();
    uint64_t value = parse_unsigned();
    if (value > static_cast<uint64_t>(INT64_MAX)) {
        fail_at(t, "Integer value '" + t.value + "' is out of range.");
    }
    return static_cast<int64_t>(value);
}

property_list parser::parse_property_body() {
    expect_symbol("(");
    property_list properties;
    do {
        std::string key = parse_string();
        expect_symbol("=");
        // StarRocks wants strings; numbers are accepted as their text for convenience.
        const token& t = peek();
        std::string value;
        if (t.kind == token_kind::integer || t.kind == token_kind::decimal) {
            value = advance().value;
        } else {
            value = parse_string();
        }
        properties.emplace_back(std::move(key), std::move(value));
    } while (accept_symbol(","));
    expect_symbol(")");
    return properties;
}

property_list parser::parse_optional_properties() {
    if (accept_keyword("PROPERTIES")) {
        return parse_property_body();
    }
    return {};
}

user_identity parser::parse_user_identity() {
    user_identity user;
    user.name = parse_identifier_or_string();
    if (accept_symbol("@")) {
        user.host = parse_identifier_or_string();
    }
    return user;
}

bool parser::parse_if_not_exists() {
    if (accept_keyword("IF")) {
        expect_keyword("NOT");
        expect_keyword("EXISTS");
        return true;
    }
    return false;
}

bool parser::parse_if_exists() {
    if (accept_keyword("IF")) {
        expect_keyword("EXISTS");
        return true;
    }
    return false;
}

show_filter parser::parse_show_filter() {
    show_filter filter;
    if (accept_keyword("LIKE")) {
        filter.like = parse_string();
    } else if (accept_keyword("WHERE")) {
        filter.where = parse_expression();
    }
    return filter;
}

show_predicate parser::parse_show_predicate() {
    show_predicate predicate;
    if (accept_keyword("WHERE")) {
        predicate.where = parse_expression();
    }
    if (accept_keyword("ORDER")) {
        expect_keyword("BY");
        predicate.order_by = parse_order_by_items();
    }
    if (accept_keyword("LIMIT")) {
        predicate.limit = parse_limit_values();
    }
    return predicate;
}

std::vector<order_item> parser::parse_order_by_items() {
    std::vector<order_item> items;
    do {
        order_item item{parse_expression()};
        if (accept_keyword("DESC")) {
            item.descending = true;
        } else {
            accept_keyword("ASC");
        }
        items.push_back(std::move(item));
    } while (accept_symbol(","));
    return items;
}

limit_clause parser::parse_limit_values() {
    limit_clause limit;
    limit.count = parse_unsigned();
    if (accept_symbol(",")) {
        // MySQL's LIMIT offset, count
        limit.offset = limit.count;
        limit.count = parse_unsigned();
    } else if (accept_keyword("OFFSET")) {
        limit.offset = parse_unsigned();
    }
    return limit;
}

std::optional<std::string> parser::parse_optional_comment() {
    if (accept_keyword("COMMENT")) {
        accept_symbol("=");
        return parse_string();
    }
    return std::nullopt;
}

}  // namespace tv::sql::detail
