// SPDX-License-Identifier: Apache-2.0
// AST for session and utility statements: USE, SET, transactions, SHOW ..., DESC, ADMIN,
// CHECKSUM TABLE, KILL.
#pragma once

#include "sql/parser/ast_select.hh"

namespace tv::sql {

/// USE [catalog.]db
struct use_stmt {
    std::string catalog;
    std::string db;
};

/// One `x = value` of a SET statement. A scope keyword (GLOBAL, SESSION, LOCAL) carries over to
/// the assignments after it that name none, as in MySQL 8.
struct set_variable {
    variable_scope scope = variable_scope::system;  ///< user for @x
    std::string name;
    /// Empty for `= DEFAULT`. A bare word value (`SET autocommit = ON`, `SET x = utf8`) is a
    /// string literal holding the word.
    std::optional<expr> value;
};

/// SET [GLOBAL|SESSION] x = e [, ...]; SET @@x = e; SET @x = e
struct set_stmt {
    std::vector<set_variable> variables;
};

/// SET NAMES {charset | DEFAULT} [COLLATE c]; SET {CHARACTER SET | CHARSET} {charset | DEFAULT}
struct set_names_stmt {
    std::string charset;  ///< empty for DEFAULT
    std::optional<std::string> collation;
    bool character_set_form = false;  ///< written as SET CHARACTER SET / SET CHARSET
};

/// SET PASSWORD [FOR user] = PASSWORD('plain') | 'hashed'
struct set_password_stmt {
    std::optional<user_identity> user;
    std::string password;
    bool hashed = false;  ///< written without PASSWORD(): the value is already a hash
};

enum class transaction_action : uint8_t { begin, commit, rollback };

/// BEGIN [WORK] | START TRANSACTION | COMMIT [WORK] | ROLLBACK [WORK]
struct transaction_stmt {
    transaction_action action = transaction_action::begin;
};

/// SHOW [GLOBAL|SESSION] VARIABLES [LIKE | WHERE]
struct show_variables_stmt {
    variable_scope scope = variable_scope::system;  ///< system, session or global
    show_filter filter;
};

/// SHOW DATABASES [FROM catalog] [LIKE | WHERE]
struct show_databases_stmt {
    std::string catalog;
    show_filter filter;
};

/// SHOW [FULL] TABLES [FROM|IN db] [LIKE | WHERE]
struct show_tables_stmt {
    bool full = false;
    std::string db;
    show_filter filter;
};

enum class show_create_kind : uint8_t { table, view, materialized_view, database, catalog, repository };

/// SHOW CREATE {TABLE | VIEW | MATERIALIZED VIEW | DATABASE | CATALOG | REPOSITORY} name.
/// For DATABASE, CATALOG and REPOSITORY only `name.name` is set.
struct show_create_stmt {
    show_create_kind kind = show_create_kind::table;
    qualified_name name;
};

/// DESC | DESCRIBE [db.]t [ALL]
struct describe_stmt {
    qualified_name table;
    bool all = false;
};

/// SHOW [FULL] COLUMNS|FIELDS {FROM|IN} t [{FROM|IN} db] [LIKE | WHERE]
struct show_columns_stmt {
    bool full = false;
    qualified_name table;
    show_filter filter;
};

/// SHOW [TEMPORARY] PARTITIONS FROM t [WHERE] [ORDER BY] [LIMIT]
struct show_partitions_stmt {
    bool temporary = false;
    qualified_name table;
    show_predicate predicate;
};

/// SHOW TABLET <id> | SHOW TABLET[S] FROM t [PARTITION (p, ...)] [WHERE] [ORDER BY] [LIMIT]
struct show_tablet_stmt {
    std::optional<int64_t> tablet_id;  ///< set for the by-id form, which has no table
    qualified_name table;
    std::vector<std::string> partitions;
    show_predicate predicate;
};

/// SHOW GRANTS [FOR user | FOR ROLE r]; SHOW ALL GRANTS
struct show_grants_stmt {
    bool all = false;
    std::optional<user_identity> user;
    std::optional<std::string> role;
};

/// SHOW [FULL] PROCESSLIST
struct show_processlist_stmt {
    bool full = false;
};

/// SHOW CATALOGS
struct show_catalogs_stmt {};

/// SHOW BROKER
struct show_broker_stmt {};

/// SHOW WARNINGS | SHOW ERRORS [LIMIT ...]
struct show_warnings_stmt {
    bool errors = false;
    std::optional<limit_clause> limit;
};

/// SHOW [FULL] [BUILTIN | GLOBAL] FUNCTIONS [FROM|IN db] [LIKE | WHERE]
struct show_functions_stmt {
    bool global = false;
    bool builtin = false;
    bool full = false;
    std::string db;
    show_filter filter;
};

/// SHOW MATERIALIZED VIEWS [FROM|IN db] [LIKE | WHERE]
struct show_materialized_views_stmt {
    std::string db;
    show_filter filter;
};

/// ADMIN SET FRONTEND CONFIG ("key" = "value" [, ...])
struct admin_set_config_stmt {
    property_list config;
};

/// ADMIN SHOW FRONTEND CONFIG [LIKE 'pattern']
struct admin_show_config_stmt {
    std::optional<std::string> like;
};

/// CHECKSUM TABLE t [, ...] [QUICK | EXTENDED]
struct checksum_table_stmt {
    std::vector<qualified_name> tables;
    std::string mode;  ///< "", "QUICK" or "EXTENDED"
};

/// SHOW FRONTENDS | SHOW BACKENDS | SHOW PROC 'path': the cluster's nodes as StarRocks lists them.
struct show_proc_stmt {
    std::string path;     ///< "/frontends" for SHOW FRONTENDS, "/backends" for SHOW BACKENDS
    bool proc = false;    ///< written as SHOW PROC
};

/// KILL [CONNECTION | QUERY] id
struct kill_stmt {
    bool query_only = false;
    int64_t connection_id = 0;
};

}  // namespace tv::sql
