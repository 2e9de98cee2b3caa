// SPDX-License-Identifier: Apache-2.0
// The typed AST: one plain struct per statement kind, all gathered in `statement`.
// The structs live in ast_expr.hh (names, types, expressions), ast_select.hh (SELECT, INSERT),
// ast_session.hh (USE, SET, SHOW, ADMIN, ...), ast_table.hh, ast_view.hh, ast_user.hh and
// ast_backup.hh.
#pragma once

#include "sql/parser/ast_backup.hh"
#include "sql/parser/ast_expr.hh"
#include "sql/parser/ast_select.hh"
#include "sql/parser/ast_session.hh"
#include "sql/parser/ast_table.hh"
#include "sql/parser/ast_user.hh"
#include "sql/parser/ast_view.hh"

#include <variant>

namespace tv::sql {

using statement = std::variant<
    // queries and loads
    select_stmt, insert_stmt, update_stmt, delete_stmt,
    // session and utility
    use_stmt, set_stmt, set_names_stmt, set_password_stmt, transaction_stmt, show_variables_stmt,
    show_databases_stmt, show_tables_stmt, show_create_stmt, describe_stmt, show_columns_stmt,
    show_partitions_stmt, show_tablet_stmt, show_grants_stmt, show_processlist_stmt, show_catalogs_stmt,
    show_broker_stmt, show_warnings_stmt, show_functions_stmt, show_materialized_views_stmt,
    admin_set_config_stmt, admin_show_config_stmt, checksum_table_stmt, kill_stmt,
    show_proc_stmt,
    // databases and tables
    create_database_stmt, drop_database_stmt, create_table_stmt, create_table_like_stmt, drop_table_stmt,
    alter_table_stmt, truncate_table_stmt,
    alter_database_stmt,
    // views, materialized views, functions, catalogs
    create_view_stmt, alter_view_stmt, drop_view_stmt, create_materialized_view_stmt,
    drop_materialized_view_stmt, alter_materialized_view_stmt, refresh_materialized_view_stmt,
    create_function_stmt, drop_function_stmt, create_catalog_stmt, drop_catalog_stmt,
    // users and privileges
    create_user_stmt, alter_user_stmt, drop_user_stmt, create_role_stmt, drop_role_stmt,
    grant_privilege_stmt, revoke_privilege_stmt, grant_role_stmt, revoke_role_stmt,
    // repositories, backup and restore
    create_repository_stmt, alter_repository_stmt, drop_repository_stmt, show_repositories_stmt,
    backup_stmt, restore_stmt, show_backup_stmt, show_restore_stmt, cancel_backup_stmt,
    cancel_restore_stmt, show_snapshot_stmt, drop_snapshot_stmt, verify_snapshot_stmt, show_verify_stmt,
    cancel_verify_stmt>;

}  // namespace tv::sql
