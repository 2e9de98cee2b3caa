// SPDX-License-Identifier: Apache-2.0
// Database and table DDL: CREATE/DROP DATABASE, CREATE TABLE (columns, indexes, keys, CTAS,
// LIKE), DROP TABLE, ALTER TABLE, TRUNCATE TABLE. Partitioning is in parser_partition.cc.
#include "io/ascii.hh"
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

namespace {

constexpr std::string_view aggregate_names[] = {"SUM",        "MIN",          "MAX",
                                                "REPLACE",    "REPLACE_IF_NOT_NULL", "HLL_UNION",
                                                "BITMAP_UNION", "PERCENTILE_UNION"};

}  // namespace

statement parser::parse_create_database() {
    create_database_stmt create;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_identifier();
    if (is_symbol(".")) {
        advance();
        create.catalog = std::move(create.name);
        create.name = parse_name_part();
    }
    create.properties = parse_optional_properties();
    return create;
}

statement parser::parse_drop_database() {
    drop_database_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.name = parse_identifier();
    if (is_symbol(".")) {
        advance();
        drop.catalog = std::move(drop.name);
        drop.name = parse_name_part();
    }
    drop.force = accept_keyword("FORCE");
    return drop;
}

statement parser::parse_create_table(bool external) {
    create_table_stmt create;
    create.external = external;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_qualified_name();
    if (!external && accept_keyword("LIKE")) {
        return create_table_like_stmt{create.if_not_exists, std::move(create.name), parse_qualified_name()};
    }
    bool has_columns = false;
    if (accept_symbol("(")) {
        has_columns = true;
        do {
            if (at_keyword("INDEX")) {
                create.indexes.push_back(parse_index_def());
            } else {
                create.columns.push_back(parse_column_def());
            }
        } while (accept_symbol(","));
        expect_symbol(")");
    }
    if (accept_keyword("ENGINE")) {
        expect_symbol("=");
        create.engine = parse_identifier();
    }
    if (at_keyword("DUPLICATE") || at_keyword("AGGREGATE") || at_keyword("UNIQUE") || at_keyword("PRIMARY")) {
        key_desc keys;
        std::string kind = ascii_upper(advance().value);
        keys.kind = kind == "DUPLICATE"   ? key_kind::duplicate
                    : kind == "AGGREGATE" ? key_kind::aggregate
                    : kind == "UNIQUE"    ? key_kind::unique
                                          : key_kind::primary;
        expect_keyword("KEY");
        keys.columns = parse_identifier_list();
        create.keys = std::move(keys);
    }
    create.comment = parse_optional_comment();
    if (accept_keyword("PARTITION")) {
        expect_keyword("BY");
        create.partition = parse_partition_desc();
    }
    if (accept_keyword("DISTRIBUTED")) {
        expect_keyword("BY");
        create.distribution = parse_distribution();
    }
    if (accept_keyword("ORDER")) {
        expect_keyword("BY");
        create.order_by = parse_order_by_columns();
    }
    create.properties = parse_optional_properties();
    if (!external && at_keyword("AS") && is_keyword("SELECT", 1)) {
        advance();
        size_t first = _pos;
        create.as_select = parse_select();
        create.as_select_text = source_text(first, _pos - 1);
    } else if (!has_columns) {
        // Nothing after the name: every clause above noted itself as a candidate here.
        note("'('");
        fail();
    }
    return create;
}

column_def parser::parse_column_def() {
    column_def column;
    column.name = parse_identifier();
    column.type = parse_data_type(false);
    // StarRocks fixes the order (type, KEY, aggregate, NULL, DEFAULT, COMMENT); any order is
    // accepted here, each attribute once.
    while (true) {
        const token& t = peek();
        bool repeated = false;
        if (accept_keyword("KEY")) {
            repeated = column.is_key;
            column.is_key = true;
        } else if (at_keyword("NOT") && is_keyword("NULL", 1)) {
            advance();
            advance();
            repeated = column.nullable.has_value();
            column.nullable = false;
        } else if (accept_keyword("NULL")) {
            repeated = column.nullable.has_value();
            column.nullable = true;
        } else if (accept_keyword("DEFAULT")) {
            repeated = column.default_value.has_value();
            column.default_value = parse_column_default();
        } else if (accept_keyword("AUTO_INCREMENT")) {
            repeated = column.auto_increment;
            column.auto_increment = true;
        } else if (accept_keyword("COMMENT")) {
            repeated = column.comment.has_value();
            column.comment = parse_string();
        } else {
            bool aggregate = false;
            for (auto name : aggregate_names) {
                if (accept_keyword(name)) {
                    repeated = column.aggregate.has_value();
                    column.aggregate = std::string(name);
                    aggregate = true;
                    break;
                }
            }
            if (!aggregate) {
                break;
            }
        }
        if (repeated) {
            fail_at(t, "Unexpected input '" + std::string(t.raw) + "', column '" + column.name +
                           "' already has this attribute.");
        }
    }
    return column;
}

column_default parser::parse_column_default() {
    column_default value;
    const token& t = peek();
    if (accept_keyword("NULL")) {
        value.kind = default_kind::null;
        return value;
    }
    if (accept_keyword("CURRENT_TIMESTAMP")) {
        if (accept_symbol("(")) {
            expect_symbol(")");
        }
        value.kind = default_kind::current_timestamp;
        return value;
    }
    if (t.kind == token_kind::string) {
        value.value = advance().value;
        return value;
    }
    if (at_symbol("(")) {
        advance();
        size_t first = _pos;
        parse_expression();
        value.kind = default_kind::expression;
        value.value = source_text(first, _pos - 1);
        expect_symbol(")");
        return value;
    }
    std::string sign;
    if (is_symbol("-") || is_symbol("+")) {
        sign = advance().value == "-" ? "-" : "";
    }
    const token& n = peek();
    if (n.kind == token_kind::integer || n.kind == token_kind::decimal || n.kind == token_kind::floating) {
        value.value = sign + advance().value;
        return value;
    }
    if (sign.empty() && (n.is_keyword("TRUE") || n.is_keyword("FALSE"))) {
        value.value = ascii_upper(advance().value);
        return value;
    }
    note("a string");
    note("a number");
    fail();
}

index_def parser::parse_index_def() {
    expect_keyword("INDEX");
    index_def index;
    index.name = parse_identifier();
    index.columns = parse_identifier_list();
    if (accept_keyword("USING")) {
        index.using_type = ascii_upper(parse_name_part());
    }
    index.comment = parse_optional_comment();
    return index;
}

statement parser::parse_drop_table() {
    drop_table_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.name = parse_qualified_name();
    drop.force = accept_keyword("FORCE");
    return drop;
}

statement parser::parse_alter_table() {
    alter_table_stmt alter;
    alter.name = parse_qualified_name();
    if (accept_keyword("ADD")) {
        add_partition_clause add;
        if (accept_keyword("PARTITIONS")) {
            add.batch = parse_partition_batch();
        } else {
            add.temporary = accept_keyword("TEMPORARY");
            expect_keyword("PARTITION");
            add.partition = parse_partition_def(std::nullopt);
        }
        if (accept_keyword("DISTRIBUTED")) {
            expect_keyword("BY");
            add.distribution = parse_distribution();
        }
        alter.clause = std::move(add);
    } else if (accept_keyword("DROP")) {
        drop_partition_clause drop;
        drop.temporary = accept_keyword("TEMPORARY");
        expect_keyword("PARTITION");
        drop.if_exists = parse_if_exists();
        drop.name = parse_identifier();
        drop.force = accept_keyword("FORCE");
        alter.clause = std::move(drop);
    } else if (accept_keyword("RENAME")) {
        if (accept_keyword("PARTITION")) {
            rename_partition_clause rename;
            rename.name = parse_identifier();
            rename.new_name = parse_identifier();
            alter.clause = std::move(rename);
        } else {
            alter.clause = rename_table_clause{parse_identifier()};
        }
    } else if (accept_keyword("SWAP")) {
        expect_keyword("WITH");
        alter.clause = swap_table_clause{parse_identifier()};
    } else if (accept_keyword("SET")) {
        alter.clause = set_table_properties_clause{parse_property_body()};
    } else {
        fail();
    }
    return alter;
}

statement parser::parse_alter_database() {
    // After ALTER DATABASE
    alter_database_stmt alter;
    alter.name = parse_qualified_name();
    if (!alter.name.catalog.empty()) {
        fail();  // catalog.db is the longest name a database has
    }
    expect_keyword("RENAME");
    alter.new_name = parse_identifier();
    return alter;
}

statement parser::parse_truncate() {
    expect_keyword("TRUNCATE");
    expect_keyword("TABLE");
    truncate_table_stmt truncate;
    truncate.name = parse_qualified_name();
    if (accept_keyword("PARTITION") || accept_keyword("PARTITIONS")) {
        truncate.partitions = parse_partition_names();
    }
    return truncate;
}

}  // namespace tv::sql::detail
