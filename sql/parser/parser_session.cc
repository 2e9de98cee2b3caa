// SPDX-License-Identifier: Apache-2.0
// Session and utility statements: USE, SET (variables, NAMES, PASSWORD), transactions, DESC,
// ADMIN ... FRONTEND CONFIG, CHECKSUM TABLE, KILL.
#include "io/ascii.hh"
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

namespace {

}  // namespace

statement parser::parse_use() {
    expect_keyword("USE");
    use_stmt use;
    use.db = parse_identifier();
    if (is_symbol(".")) {
        advance();
        use.catalog = std::move(use.db);
        use.db = parse_name_part();
    }
    return use;
}

statement parser::parse_set() {
    expect_keyword("SET");
    if (accept_keyword("NAMES")) {
        set_names_stmt names;
        if (!accept_keyword("DEFAULT")) {
            names.charset = parse_identifier_or_string();
        }
        if (accept_keyword("COLLATE")) {
            names.collation = parse_identifier_or_string();
        }
        return names;
    }
    bool charset_form = accept_keyword("CHARSET");
    if (!charset_form && at_keyword("CHARACTER") && is_keyword("SET", 1)) {
        advance();
        advance();
        charset_form = true;
    }
    if (charset_form) {
        set_names_stmt names;
        names.character_set_form = true;
        if (!accept_keyword("DEFAULT")) {
            names.charset = parse_identifier_or_string();
        }
        return names;
    }
    if (at_keyword("PASSWORD") && (is_symbol("=", 1) || is_keyword("FOR", 1))) {
        return parse_set_password();
    }
    return parse_set_variables();
}

set_stmt parser::parse_set_variables() {
    set_stmt set;
    variable_scope scope = variable_scope::system;  // carried over, as MySQL 8 does
    do {
        set_variable var;
        if (accept_keyword("GLOBAL")) {
            scope = variable_scope::global;
        } else if (accept_keyword("SESSION") || accept_keyword("LOCAL")) {
            scope = variable_scope::session;
        }
        if (is_symbol("@") || is_symbol("@@")) {
            node ref = parse_variable();
            auto& v = std::get<variable_ref>(ref.value.node);
            var.scope = v.scope;
            var.name = std::move(v.name);
            if (var.scope == variable_scope::system) {
                var.scope = scope;
            }
        } else {
            var.scope = scope;
            var.name = parse_name_part();
        }
        if (!accept_symbol("=")) {
            expect_symbol(":=");
        }
        const token& t = peek();
        bool word_alone = t.kind == token_kind::word &&
                          (is_symbol(",", 1) || is_symbol(";", 1) || peek(1).kind == token_kind::end);
        if (t.is_keyword("DEFAULT")) {
            advance();
        } else if (word_alone && !t.is_keyword("TRUE") && !t.is_keyword("FALSE") && !t.is_keyword("NULL")) {
            // SET autocommit = ON, SET x = utf8: MySQL reads a bare word as its name.
            var.value = expr{literal{literal_kind::string, advance().value}};
        } else {
            var.value = parse_expression();
        }
        set.variables.push_back(std::move(var));
    } while (accept_symbol(","));
    return set;
}

statement parser::parse_set_password() {
    expect_keyword("PASSWORD");
    set_password_stmt set;
    if (accept_keyword("FOR")) {
        set.user = parse_user_identity();
    }
    expect_symbol("=");
    if (at_keyword("PASSWORD") && is_symbol("(", 1)) {
        advance();
        advance();
        set.password = parse_string();
        expect_symbol(")");
    } else {
        set.password = parse_string();
        set.hashed = true;
    }
    return set;
}

statement parser::parse_transaction() {
    transaction_stmt tx;
    if (accept_keyword("BEGIN")) {
        tx.action = transaction_action::begin;
        accept_keyword("WORK");
    } else if (accept_keyword("START")) {
        expect_keyword("TRANSACTION");
        tx.action = transaction_action::begin;
    } else if (accept_keyword("COMMIT")) {
        tx.action = transaction_action::commit;
        accept_keyword("WORK");
    } else {
        expect_keyword("ROLLBACK");
        tx.action = transaction_action::rollback;
        accept_keyword("WORK");
    }
    return tx;
}

statement parser::parse_describe() {
    if (!accept_keyword("DESC")) {
        expect_keyword("DESCRIBE");
    }
    describe_stmt describe;
    describe.table = parse_qualified_name();
    describe.all = accept_keyword("ALL");
    return describe;
}

statement parser::parse_admin() {
    expect_keyword("ADMIN");
    if (accept_keyword("SET")) {
        expect_keyword("FRONTEND");
        expect_keyword("CONFIG");
        return admin_set_config_stmt{parse_property_body()};
    }
    if (accept_keyword("VERIFY")) {
        expect_keyword("SNAPSHOT");
        verify_snapshot_stmt verify;
        verify.label = parse_identifier();
        expect_keyword("ON");
        verify.repository = parse_identifier();
        verify.properties = parse_optional_properties();
        return verify;
    }
    expect_keyword("SHOW");
    expect_keyword("FRONTEND");
    expect_keyword("CONFIG");
    admin_show_config_stmt show;
    if (accept_keyword("LIKE")) {
        show.like = parse_string();
    }
    return show;
}

statement parser::parse_checksum() {
    expect_keyword("CHECKSUM");
    expect_keyword("TABLE");
    checksum_table_stmt checksum;
    do {
        checksum.tables.push_back(parse_qualified_name());
    } while (accept_symbol(","));
    if (at_keyword("QUICK") || at_keyword("EXTENDED")) {
        checksum.mode = ascii_upper(advance().value);
    }
    return checksum;
}

statement parser::parse_kill() {
    expect_keyword("KILL");
    kill_stmt kill;
    if (accept_keyword("QUERY")) {
        kill.query_only = true;
    } else {
        accept_keyword("CONNECTION");
    }
    kill.connection_id = parse_int64();
    return kill;
}

}  // namespace tv::sql::detail
