// SPDX-License-Identifier: Apache-2.0
// Partitioning and distribution clauses: PARTITION BY RANGE / LIST / expression, partition
// bounds, START/END/EVERY batches, DISTRIBUTED BY, ORDER BY (cols).
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

partition_desc parser::parse_partition_desc() {
    partition_desc desc;
    if (at_keyword("RANGE") || at_keyword("LIST")) {
        desc.kind = advance().is_keyword("RANGE") ? partition_kind::range : partition_kind::list;
        expect_symbol("(");
        desc.exprs = parse_expression_list();
        expect_symbol(")");
        expect_symbol("(");
        if (!accept_symbol(")")) {
            do {
                if (accept_keyword("PARTITION")) {
                    desc.partitions.push_back(parse_partition_def(desc.kind));
                } else if (desc.kind == partition_kind::range && at_keyword("START")) {
                    desc.batches.push_back(parse_partition_batch());
                } else {
                    fail();
                }
            } while (accept_symbol(","));
            expect_symbol(")");
        }
    } else {
        std::string text;
        desc.kind = partition_kind::expression;
        desc.exprs = parse_partition_exprs(text);
    }
    for (const auto& e : desc.exprs) {
        const auto* column = e.as<column_ref>();
        if (!column || !column->table.empty()) {
            desc.columns.clear();
            break;
        }
        desc.columns.push_back(column->column);
    }
    return desc;
}

std::vector<expr> parser::parse_partition_exprs(std::string& text) {
    // PARTITION BY date_trunc('day', dt) | PARTITION BY a, b | PARTITION BY (a, b)
    size_t first = _pos;
    std::vector<expr> exprs;
    if (is_symbol("(")) {
        advance();
        exprs = parse_expression_list();
        expect_symbol(")");
    } else {
        exprs = parse_expression_list();
    }
    text = source_text(first, _pos - 1);
    return exprs;
}

partition_def parser::parse_partition_def(std::optional<partition_kind> kind) {
    // After PARTITION. ALTER TABLE ADD PARTITION passes no kind: any bound form is accepted
    // and the executor checks it against the table.
    partition_def def;
    def.if_not_exists = parse_if_not_exists();
    def.name = parse_identifier();
    expect_keyword("VALUES");
    bool range_ok = !kind || *kind == partition_kind::range;
    bool list_ok = !kind || *kind == partition_kind::list;
    if (range_ok && accept_keyword("LESS")) {
        expect_keyword("THAN");
        less_than_bound bound;
        if (accept_keyword("MAXVALUE")) {
            bound.upper.push_back(partition_value{"", true});
        } else {
            bound.upper = parse_partition_tuple();
        }
        def.bound = std::move(bound);
    } else if (range_ok && accept_symbol("[")) {
        fixed_range_bound bound;
        bound.lower = parse_partition_tuple();
        expect_symbol(",");
        bound.upper = parse_partition_tuple();
        expect_symbol(")");
        def.bound = std::move(bound);
    } else if (list_ok && accept_keyword("IN")) {
        list_bound bound;
        expect_symbol("(");
        do {
            if (is_symbol("(")) {
                bound.values.push_back(parse_partition_tuple());
            } else {
                bound.values.push_back({parse_partition_value()});
            }
        } while (accept_symbol(","));
        expect_symbol(")");
        def.bound = std::move(bound);
    } else {
        fail();
    }
    // Per-partition properties follow directly: VALUES LESS THAN ("x") ("replication_num" = "1")
    if (is_symbol("(")) {
        def.properties = parse_property_body();
    }
    return def;
}

partition_batch parser::parse_partition_batch() {
    partition_batch batch;
    expect_keyword("START");
    batch.start = parse_partition_tuple();
    expect_keyword("END");
    batch.end = parse_partition_tuple();
    expect_keyword("EVERY");
    expect_symbol("(");
    batch.every = parse_expression();
    expect_symbol(")");
    return batch;
}

partition_tuple parser::parse_partition_tuple() {
    expect_symbol("(");
    partition_tuple tuple;
    do {
        tuple.push_back(parse_partition_value());
    } while (accept_symbol(","));
    expect_symbol(")");
    return tuple;
}

partition_value parser::parse_partition_value() {
    if (accept_keyword("MAXVALUE")) {
        return partition_value{"", true};
    }
    const token& t = peek();
    if (t.kind == token_kind::string) {
        return partition_value{advance().value, false};
    }
    std::string sign;
    if (is_symbol("-")) {
        advance();
        sign.push_back('-');  // not `= "-"`: GCC 12 warns falsely on it (-Wrestrict)
    }
    note("a string");
    note("an integer");
    if (peek().kind != token_kind::integer) {
        fail();
    }
    sign += advance().value;
    return partition_value{std::move(sign), false};
}

distribution_desc parser::parse_distribution() {
    distribution_desc desc;
    if (accept_keyword("HASH")) {
        desc.kind = distribution_kind::hash;
        desc.columns = parse_identifier_list();
    } else {
        expect_keyword("RANDOM");
        desc.kind = distribution_kind::random;
    }
    if (accept_keyword("BUCKETS")) {
        desc.buckets = parse_int64();
    }
    return desc;
}

std::vector<std::string> parser::parse_order_by_columns() {
    return parse_identifier_list();
}

}  // namespace tv::sql::detail
