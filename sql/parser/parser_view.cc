// SPDX-License-Identifier: Apache-2.0
// Views, materialized views, user-defined functions and external catalogs.
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

statement parser::parse_create_view(bool or_replace) {
    create_view_stmt create;
    create.or_replace = or_replace;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_qualified_name();
    if (at_symbol("(")) {
        create.columns = parse_view_columns();
    }
    create.comment = parse_optional_comment();
    expect_keyword("AS");
    size_t first = _pos;
    create.query = parse_select();
    create.query_text = source_text(first, _pos - 1);
    return create;
}

std::vector<view_column> parser::parse_view_columns() {
    expect_symbol("(");
    std::vector<view_column> columns;
    do {
        view_column column;
        column.name = parse_identifier();
        if (accept_keyword("COMMENT")) {
            column.comment = parse_string();
        }
        columns.push_back(std::move(column));
    } while (accept_symbol(","));
    expect_symbol(")");
    return columns;
}

statement parser::parse_alter_view() {
    alter_view_stmt alter;
    alter.name = parse_qualified_name();
    if (at_symbol("(")) {
        alter.columns = parse_view_columns();
    }
    expect_keyword("AS");
    size_t first = _pos;
    alter.query = parse_select();
    alter.query_text = source_text(first, _pos - 1);
    return alter;
}

statement parser::parse_drop_view() {
    drop_view_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.name = parse_qualified_name();
    return drop;
}

statement parser::parse_create_materialized_view() {
    create_materialized_view_stmt create;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_qualified_name();
    if (at_symbol("(")) {
        create.columns = parse_view_columns();
    }
    create.comment = parse_optional_comment();
    // StarRocks takes these clauses in any order, each at most once.
    bool seen_partition = false;
    bool seen_properties = false;
    while (true) {
        const token& t = peek();
        bool repeated = false;
        if (accept_keyword("PARTITION")) {
            expect_keyword("BY");
            repeated = seen_partition;
            seen_partition = true;
            create.partition_by = parse_partition_exprs(create.partition_by_text);
        } else if (accept_keyword("DISTRIBUTED")) {
            expect_keyword("BY");
            repeated = create.distribution.has_value();
            create.distribution = parse_distribution();
        } else if (accept_keyword("ORDER")) {
            expect_keyword("BY");
            repeated = !create.order_by.empty();
            create.order_by = parse_order_by_columns();
        } else if (at_keyword("REFRESH")) {
            repeated = create.has_refresh_clause;
            create.has_refresh_clause = true;
            create.refresh = parse_refresh_scheme();
        } else if (accept_keyword("PROPERTIES")) {
            repeated = seen_properties;
            seen_properties = true;
            create.properties = parse_property_body();
        } else {
            break;
        }
        if (repeated) {
            fail_at(t, "Unexpected input '" + std::string(t.raw) + "', the clause is given twice.");
        }
    }
    expect_keyword("AS");
    size_t first = _pos;
    create.query = parse_select();
    create.query_text = source_text(first, _pos - 1);
    return create;
}

refresh_scheme parser::parse_refresh_scheme() {
    expect_keyword("REFRESH");
    refresh_scheme scheme;
    if (accept_keyword("IMMEDIATE")) {
        scheme.moment = refresh_moment::immediate;
    } else if (accept_keyword("DEFERRED")) {
        scheme.moment = refresh_moment::deferred;
    }
    if (accept_keyword("ASYNC")) {
        scheme.kind = refresh_kind::async;
        if (accept_keyword("START")) {
            expect_symbol("(");
            scheme.start = parse_string();
            expect_symbol(")");
        }
        if (accept_keyword("EVERY")) {
            expect_symbol("(");
            if (!at_keyword("INTERVAL")) {
                fail();
            }
            scheme.every = parse_expression();
            expect_symbol(")");
        }
    } else if (accept_keyword("MANUAL")) {
        scheme.kind = refresh_kind::manual;
    } else if (accept_keyword("INCREMENTAL")) {
        scheme.kind = refresh_kind::incremental;
    } else if (!scheme.moment) {
        fail();
    }
    return scheme;
}

statement parser::parse_drop_materialized_view() {
    drop_materialized_view_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.name = parse_qualified_name();
    return drop;
}

statement parser::parse_alter_materialized_view() {
    alter_materialized_view_stmt alter;
    alter.name = parse_qualified_name();
    if (accept_keyword("ACTIVE")) {
        alter.action = mv_alter_action::active;
    } else if (accept_keyword("INACTIVE")) {
        alter.action = mv_alter_action::inactive;
    } else if (accept_keyword("RENAME")) {
        alter.action = mv_alter_action::rename;
        alter.new_name = parse_identifier();
    } else if (accept_keyword("SET")) {
        alter.action = mv_alter_action::set_properties;
        alter.properties = parse_property_body();
    } else if (at_keyword("REFRESH")) {
        alter.action = mv_alter_action::refresh;
        alter.refresh = parse_refresh_scheme();
    } else {
        fail();
    }
    return alter;
}

statement parser::parse_refresh_materialized_view() {
    expect_keyword("REFRESH");
    expect_keyword("MATERIALIZED");
    expect_keyword("VIEW");
    refresh_materialized_view_stmt refresh;
    refresh.name = parse_qualified_name();
    if (accept_keyword("PARTITION")) {
        expect_keyword("START");
        expect_symbol("(");
        refresh.partition_start = parse_string();
        expect_symbol(")");
        expect_keyword("END");
        expect_symbol("(");
        refresh.partition_end = parse_string();
        expect_symbol(")");
    }
    refresh.force = accept_keyword("FORCE");
    if (accept_keyword("WITH")) {
        if (accept_keyword("SYNC")) {
            refresh.sync_mode = true;
        } else {
            expect_keyword("ASYNC");
        }
        expect_keyword("MODE");
    }
    return refresh;
}

void parser::parse_function_signature(std::vector<data_type>& types, bool& variadic) {
    expect_symbol("(");
    if (accept_symbol(")")) {
        return;
    }
    do {
        if (accept_symbol("...")) {
            variadic = true;
            break;  // `...` ends the list
        }
        types.push_back(parse_data_type(false));
    } while (accept_symbol(","));
    expect_symbol(")");
}

statement parser::parse_create_function(bool global, function_kind kind) {
    create_function_stmt create;
    create.global = global;
    create.kind = kind;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_qualified_name();
    parse_function_signature(create.arg_types, create.variadic);
    expect_keyword("RETURNS");
    create.return_type = parse_data_type(false);
    if (accept_keyword("INTERMEDIATE")) {
        create.intermediate_type = parse_data_type(false);
    }
    create.properties = parse_optional_properties();
    return create;
}

statement parser::parse_drop_function(bool global) {
    drop_function_stmt drop;
    drop.global = global;
    drop.if_exists = parse_if_exists();
    drop.name = parse_qualified_name();
    parse_function_signature(drop.arg_types, drop.variadic);
    return drop;
}

statement parser::parse_create_catalog() {
    create_catalog_stmt create;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_identifier();
    create.comment = parse_optional_comment();
    expect_keyword("PROPERTIES");
    create.properties = parse_property_body();
    return create;
}

statement parser::parse_drop_catalog() {
    drop_catalog_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.name = parse_identifier();
    return drop;
}

}  // namespace tv::sql::detail
