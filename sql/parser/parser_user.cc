// SPDX-License-Identifier: Apache-2.0
// Users, roles and privileges: CREATE/ALTER/DROP USER, CREATE/DROP ROLE, GRANT, REVOKE.
#include "io/ascii.hh"
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

namespace {

}  // namespace

statement parser::parse_create_user() {
    create_user_stmt create;
    create.if_not_exists = parse_if_not_exists();
    create.user = parse_user_identity();
    create.auth = parse_auth_option();
    create.default_roles = parse_default_roles();
    return create;
}

statement parser::parse_alter_user() {
    alter_user_stmt alter;
    alter.if_exists = parse_if_exists();
    alter.user = parse_user_identity();
    alter.auth = parse_auth_option();
    alter.default_roles = parse_default_roles();
    if (!alter.auth && alter.default_roles.empty()) {
        fail();  // ALTER USER u with nothing to change
    }
    return alter;
}

statement parser::parse_drop_user() {
    drop_user_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.user = parse_user_identity();
    return drop;
}

std::optional<auth_option> parser::parse_auth_option() {
    if (!accept_keyword("IDENTIFIED")) {
        return std::nullopt;
    }
    auth_option auth;
    if (accept_keyword("BY")) {
        auth.hashed = accept_keyword("PASSWORD");
        auth.password = parse_string();
        return auth;
    }
    expect_keyword("WITH");
    auth.plugin = parse_identifier_or_string();
    if (accept_keyword("BY")) {
        auth.password = parse_string();
    } else if (accept_keyword("AS")) {
        auth.password = parse_string();
        auth.hashed = true;
    }
    return auth;
}

std::vector<std::string> parser::parse_default_roles() {
    std::vector<std::string> roles;
    if (accept_keyword("DEFAULT")) {
        expect_keyword("ROLE");
        do {
            roles.push_back(parse_identifier_or_string());
        } while (accept_symbol(","));
    }
    return roles;
}

statement parser::parse_create_role() {
    create_role_stmt create;
    create.if_not_exists = parse_if_not_exists();
    create.name = parse_identifier_or_string();
    return create;
}

statement parser::parse_drop_role() {
    drop_role_stmt drop;
    drop.if_exists = parse_if_exists();
    drop.name = parse_identifier_or_string();
    return drop;
}

statement parser::parse_grant_or_revoke(bool revoke) {
    advance();  // GRANT / REVOKE
    // Privileges and role names look alike ("CREATE TABLE" vs "db_admin"): read the words up to
    // ON (privileges) or TO / FROM (roles).
    std::vector<std::vector<const token*>> items;
    std::string_view target = revoke ? "FROM" : "TO";
    do {
        std::vector<const token*> words;
        while ((peek().kind == token_kind::word || peek().kind == token_kind::quoted_identifier) &&
               !is_keyword("ON") && !is_keyword(target)) {
            words.push_back(&advance());
        }
        if (words.empty()) {
            note("a legal identifier");
            fail();
        }
        items.push_back(std::move(words));
    } while (accept_symbol(","));

    if (accept_keyword("ON")) {
        std::vector<std::string> privileges;
        for (const auto& words : items) {
            std::string privilege;
            for (const token* w : words) {
                privilege += (privilege.empty() ? "" : " ") + ascii_upper(w->value);
            }
            privileges.push_back(privilege == "ALL PRIVILEGES" ? "ALL" : privilege);
        }
        privilege_object object = parse_privilege_object();
        expect_keyword(target);
        grantee who = parse_grantee();
        if (revoke) {
            return revoke_privilege_stmt{std::move(privileges), std::move(object), std::move(who)};
        }
        grant_privilege_stmt grant{std::move(privileges), std::move(object), std::move(who)};
        if (accept_keyword("WITH")) {
            expect_keyword("GRANT");
            expect_keyword("OPTION");
            grant.with_grant_option = true;
        }
        return grant;
    }
    std::vector<std::string> roles;
    for (const auto& words : items) {
        if (words.size() != 1) {
            fail_at(*words[1], "Unexpected input '" + std::string(words[1]->raw) +
                                   "', expected ON after privileges or " + std::string(target) +
                                   " after role names.");
        }
        roles.push_back(words[0]->value);
    }
    expect_keyword(target);
    grantee who = parse_grantee();
    if (revoke) {
        return revoke_role_stmt{std::move(roles), std::move(who)};
    }
    return grant_role_stmt{std::move(roles), std::move(who)};
}

grantee parser::parse_grantee() {
    grantee who;
    if (accept_keyword("ROLE")) {
        who.is_role = true;
        who.role = parse_identifier_or_string();
        return who;
    }
    // USER is optional: `TO USER 'u'@'%'` and `TO 'u'@'%'` mean the same.
    if (at_keyword("USER") && (peek(1).kind == token_kind::string || peek(1).kind == token_kind::word ||
                               peek(1).kind == token_kind::quoted_identifier)) {
        advance();
    }
    who.user = parse_user_identity();
    return who;
}

privilege_object parser::parse_privilege_object() {
    privilege_object object;
    struct type_words {
        std::string_view singular;
        std::string_view plural;
        privilege_object_type type;
        bool in_database;  // ALL <plural> takes IN {DATABASE d | ALL DATABASES}
    };
    static constexpr type_words types[] = {
        {"TABLE", "TABLES", privilege_object_type::table, true},
        {"VIEW", "VIEWS", privilege_object_type::view, true},
        {"FUNCTION", "FUNCTIONS", privilege_object_type::function, true},
        {"DATABASE", "DATABASES", privilege_object_type::database, false},
        {"CATALOG", "CATALOGS", privilege_object_type::catalog, false},
    };
    if (accept_keyword("SYSTEM")) {
        object.type = privilege_object_type::system;
        return object;
    }
    // *.*
    if (at_symbol("*")) {
        advance();
        expect_symbol(".");
        expect_symbol("*");
        object.type = privilege_object_type::table;
        object.all = true;
        object.all_databases = true;
        object.legacy_syntax = true;
        return object;
    }
    bool all = accept_keyword("ALL");
    bool global = accept_keyword("GLOBAL");
    bool materialized = !global && accept_keyword("MATERIALIZED");
    const type_words* found = nullptr;
    for (const auto& t : types) {
        if (global && t.type != privilege_object_type::function) {
            continue;
        }
        if (materialized && t.type != privilege_object_type::view) {
            continue;
        }
        if ((all && at_keyword(t.plural)) || (!all && (at_keyword(t.singular) || at_keyword(t.plural)))) {
            advance();
            found = &t;
            break;
        }
    }
    if (!found && (all || global || materialized)) {
        fail();
    }
    if (found) {
        object.type = found->type;
        if (global) {
            object.type = privilege_object_type::global_function;
        } else if (materialized) {
            object.type = privilege_object_type::materialized_view;
        }
        if (all) {
            object.all = true;
            if (found->in_database && !global) {
                expect_keyword("IN");
                if (accept_keyword("ALL")) {
                    expect_keyword("DATABASES");
                    object.all_databases = true;
                } else {
                    expect_keyword("DATABASE");
                    object.in_database = parse_identifier();
                }
            }
            return object;
        }
    } else {
        object.type = privilege_object_type::table;
        object.legacy_syntax = true;
    }
    // Named objects; for tables also db.* (every table of db).
    do {
        if (object.type == privilege_object_type::table && is_identifier() && is_symbol(".", 1) &&
            is_symbol("*", 2)) {
            object.all = true;
            object.in_database = advance().value;
            advance();
            advance();
            continue;
        }
        object.names.push_back(parse_qualified_name());
    } while (accept_symbol(","));
    if (object.all && !object.names.empty()) {
        fail_at(peek(), "Unexpected input, db.* cannot be listed with other objects.");
    }
    return object;
}

}  // namespace tv::sql::detail
