// SPDX-License-Identifier: Apache-2.0
// AST for users, roles and privileges: CREATE/ALTER/DROP USER, CREATE/DROP ROLE, GRANT, REVOKE.
#pragma once

#include "sql/parser/ast_expr.hh"

namespace tv::sql {

/// IDENTIFIED BY 'p' | IDENTIFIED BY PASSWORD 'hash' | IDENTIFIED WITH plugin [{BY 'p' | AS 'hash'}]
struct auth_option {
    std::optional<std::string> plugin;    ///< as written, e.g. "mysql_native_password"
    std::optional<std::string> password;  ///< plain text, or a hash when `hashed`
    bool hashed = false;                  ///< BY PASSWORD 'x' and AS 'x' carry a hash
};

/// CREATE USER [IF NOT EXISTS] user [auth] [DEFAULT ROLE r, ...]
struct create_user_stmt {
    bool if_not_exists = false;
    user_identity user;
    std::optional<auth_option> auth;
    std::vector<std::string> default_roles;
};

/// ALTER USER [IF EXISTS] user [auth] [DEFAULT ROLE r, ...]
struct alter_user_stmt {
    bool if_exists = false;
    user_identity user;
    std::optional<auth_option> auth;
    std::vector<std::string> default_roles;
};

/// DROP USER [IF EXISTS] user
struct drop_user_stmt {
    bool if_exists = false;
    user_identity user;
};

/// CREATE ROLE [IF NOT EXISTS] r
struct create_role_stmt {
    bool if_not_exists = false;
    std::string name;
};

/// DROP ROLE [IF EXISTS] r
struct drop_role_stmt {
    bool if_exists = false;
    std::string name;
};

/// Who receives or loses a grant: [USER] user, or ROLE r.
struct grantee {
    bool is_role = false;
    user_identity user;  ///< when !is_role
    std::string role;    ///< when is_role
};

enum class privilege_object_type : uint8_t {
    system,
    table,
    database,
    view,
    materialized_view,
    function,
    global_function,
    catalog,
};

/// What a privilege is on:
///   ON SYSTEM                                    -> system
///   ON [TABLE] db.t, ...                         -> table, names
///   ON db.*  / ON ALL TABLES IN DATABASE d       -> table, all, in_database = d
///   ON *.*   / ON ALL TABLES IN ALL DATABASES    -> table, all, all_databases
///   ON DATABASE d / ON ALL DATABASES             -> database, names / all
/// and the same shapes for VIEW(S), MATERIALIZED VIEW(S), FUNCTION(S), GLOBAL FUNCTION(S), CATALOG(S).
struct privilege_object {
    privilege_object_type type = privilege_object_type::table;
    std::vector<qualified_name> names;
    bool all = false;
    std::optional<std::string> in_database;
    bool all_databases = false;
    bool legacy_syntax = false;  ///< written db.t / db.* / *.* without an object type word
};

/// GRANT priv [, ...] ON object TO grantee [WITH GRANT OPTION]. Privileges are upper case with
/// single spaces: "SELECT", "CREATE TABLE", "ALL" (ALL PRIVILEGES is folded to ALL).
struct grant_privilege_stmt {
    std::vector<std::string> privileges;
    privilege_object object;
    grantee to;
    bool with_grant_option = false;
};

/// REVOKE priv [, ...] ON object FROM grantee
struct revoke_privilege_stmt {
    std::vector<std::string> privileges;
    privilege_object object;
    grantee from;
};

/// GRANT role [, ...] TO [USER] user | ROLE r
struct grant_role_stmt {
    std::vector<std::string> roles;
    grantee to;
};

/// REVOKE role [, ...] FROM [USER] user | ROLE r
struct revoke_role_stmt {
    std::vector<std::string> roles;
    grantee from;
};

}  // namespace tv::sql
