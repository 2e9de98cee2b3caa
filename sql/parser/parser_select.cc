// SPDX-License-Identifier: Apache-2.0
// SELECT (one table, a table function or nothing in FROM; no joins or subqueries), INSERT,
// UPDATE and DELETE.
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

select_stmt parser::parse_select() {
    expect_keyword("SELECT");
    select_stmt select;
    if (accept_keyword("DISTINCT")) {
        select.distinct = true;
    } else {
        accept_keyword("ALL");
    }
    do {
        select.items.push_back(parse_select_item());
    } while (accept_symbol(","));
    if (accept_keyword("FROM")) {
        select.from = parse_from();
    }
    if (accept_keyword("WHERE")) {
        select.where = parse_expression();
    }
    if (accept_keyword("GROUP")) {
        expect_keyword("BY");
        select.group_by = parse_expression_list();
    }
    if (accept_keyword("HAVING")) {
        select.having = parse_expression();
    }
    if (accept_keyword("ORDER")) {
        expect_keyword("BY");
        select.order_by = parse_order_by_items();
    }
    if (accept_keyword("LIMIT")) {
        select.limit = parse_limit_values();
    }
    return select;
}

select_item parser::parse_select_item() {
    select_item item;
    size_t first = _pos;
    if (accept_symbol("*")) {
        item.star = true;
        item.text.push_back('*');  // not `= "*"`: GCC 12 warns falsely on it (-Wrestrict)
        return item;
    }
    // t.* and db.t.*
    if (is_identifier() && is_symbol(".", 1) && is_symbol("*", 2)) {
        item.star = true;
        item.star_table.name = advance().value;
        advance();
        advance();
        item.text = source_text(first, _pos - 1);
        return item;
    }
    if (is_identifier() && is_symbol(".", 1) && (peek(2).kind == token_kind::word ||
                                                 peek(2).kind == token_kind::quoted_identifier) &&
        is_symbol(".", 3) && is_symbol("*", 4)) {
        item.star = true;
        item.star_table.db = advance().value;
        advance();
        item.star_table.name = advance().value;
        advance();
        advance();
        item.text = source_text(first, _pos - 1);
        return item;
    }
    item.value = parse_expression();
    item.text = source_text(first, _pos - 1);
    if (accept_keyword("AS")) {
        item.alias = parse_identifier_or_string();
    } else if (is_identifier() || peek().kind == token_kind::string) {
        item.alias = advance().value;
    }
    return item;
}

from_clause parser::parse_from() {
    if (at_keyword("TABLE") && is_symbol("(", 1)) {
        // TABLE(generate_series(1, 10)): a table function
        advance();
        advance();
        table_function_ref ref;
        ref.name = parse_identifier();
        expect_symbol("(");
        if (!accept_symbol(")")) {
            ref.args = parse_expression_list();
            expect_symbol(")");
        }
        expect_symbol(")");
        if (accept_keyword("AS") || is_identifier()) {
            ref.alias = parse_identifier();
            if (at_symbol("(")) {
                ref.column_aliases = parse_identifier_list();
            }
        }
        return ref;
    }
    table_ref ref;
    ref.name = parse_qualified_name();
    if (accept_keyword("AS") || is_identifier()) {
        ref.alias = parse_identifier();
    }
    return ref;
}

insert_stmt parser::parse_insert() {
    expect_keyword("INSERT");
    insert_stmt insert;
    if (accept_keyword("OVERWRITE")) {
        insert.overwrite = true;
    } else {
        expect_keyword("INTO");
    }
    accept_keyword("TABLE");
    insert.table = parse_qualified_name();
    if (accept_keyword("PARTITION") || accept_keyword("PARTITIONS")) {
        insert.partitions = parse_partition_names();
    }
    if (accept_keyword("WITH")) {
        expect_keyword("LABEL");
        insert.label = parse_identifier();
    }
    if (at_symbol("(")) {
        insert.columns = parse_identifier_list();
    }
    if (at_keyword("SELECT")) {
        size_t first = _pos;
        insert.query = parse_select();
        insert.query_text = source_text(first, _pos - 1);
        return insert;
    }
    if (!accept_keyword("VALUES")) {
        expect_keyword("VALUE");  // MySQL accepts both spellings
    }
    do {
        expect_symbol("(");
        std::vector<std::optional<expr>> row;
        if (!accept_symbol(")")) {
            do {
                if (accept_keyword("DEFAULT")) {
                    row.emplace_back(std::nullopt);
                } else {
                    row.emplace_back(parse_expression());
                }
            } while (accept_symbol(","));
            expect_symbol(")");
        }
        insert.rows.push_back(std::move(row));
    } while (accept_symbol(","));
    return insert;
}

update_stmt parser::parse_update() {
    expect_keyword("UPDATE");
    update_stmt update;
    update.table = parse_qualified_name();
    expect_keyword("SET");
    do {
        update_assignment a;
        a.column = parse_identifier();
        expect_symbol("=");
        a.value = parse_expression();
        update.assignments.push_back(std::move(a));
    } while (accept_symbol(","));
    if (accept_keyword("FROM")) {
        // UPDATE ... FROM t2 [, ...]: joins are not run here; the executor says so.
        update.has_from = true;
        do {
            parse_from();
        } while (accept_symbol(","));
    }
    if (accept_keyword("WHERE")) {
        update.where = parse_expression();
    }
    return update;
}

delete_stmt parser::parse_delete() {
    expect_keyword("DELETE");
    expect_keyword("FROM");
    delete_stmt del;
    del.table = parse_qualified_name();
    if (accept_keyword("PARTITION") || accept_keyword("PARTITIONS")) {
        del.partitions = parse_partition_names();
    }
    if (accept_keyword("USING")) {
        del.has_using = true;
        do {
            parse_from();
        } while (accept_symbol(","));
    }
    if (accept_keyword("WHERE")) {
        del.where = parse_expression();
    }
    return del;
}

}  // namespace tv::sql::detail
