// SPDX-License-Identifier: Apache-2.0
// Statements the parser accepts but whose execution comes with later work (loads and queries
// over tables, BACKUP and RESTORE, ...): each answers an honest error naming the
// statement, never a silent success.
#include "sql/exec/executor.hh"

namespace tv::sql {

std::string_view statement_name(const statement& stmt) {
    return std::visit(
        overloaded{
            [](const select_stmt&) { return "SELECT"; },
            [](const insert_stmt& i) { return i.overwrite ? "INSERT OVERWRITE" : "INSERT"; },
            [](const update_stmt&) { return "UPDATE"; },
            [](const delete_stmt&) { return "DELETE"; },
            [](const show_partitions_stmt&) { return "SHOW PARTITIONS"; },
            [](const show_tablet_stmt&) { return "SHOW TABLET"; },
            [](const checksum_table_stmt&) { return "CHECKSUM TABLE"; },
            [](const kill_stmt&) { return "KILL"; },
            [](const show_proc_stmt& s) { return s.proc ? "SHOW PROC" : s.path == "/frontends" ? "SHOW FRONTENDS" : "SHOW BACKENDS"; },
            [](const create_table_like_stmt&) { return "CREATE TABLE LIKE"; },
            [](const refresh_materialized_view_stmt&) { return "REFRESH MATERIALIZED VIEW"; },
            [](const create_role_stmt&) { return "CREATE ROLE"; },
            [](const drop_role_stmt&) { return "DROP ROLE"; },
            [](const create_repository_stmt&) { return "CREATE REPOSITORY"; },
            [](const alter_repository_stmt&) { return "ALTER REPOSITORY"; },
            [](const drop_repository_stmt&) { return "DROP REPOSITORY"; },
            [](const show_repositories_stmt&) { return "SHOW REPOSITORIES"; },
            [](const backup_stmt&) { return "BACKUP"; },
            [](const restore_stmt&) { return "RESTORE"; },
            [](const show_backup_stmt&) { return "SHOW BACKUP"; },
            [](const show_restore_stmt&) { return "SHOW RESTORE"; },
            [](const cancel_backup_stmt&) { return "CANCEL BACKUP"; },
            [](const cancel_restore_stmt&) { return "CANCEL RESTORE"; },
            [](const show_snapshot_stmt&) { return "SHOW SNAPSHOT"; },
            [](const drop_snapshot_stmt&) { return "DROP SNAPSHOT"; },
            [](const verify_snapshot_stmt&) { return "ADMIN VERIFY SNAPSHOT"; },
            [](const show_verify_stmt&) { return "SHOW VERIFY"; },
            [](const cancel_verify_stmt&) { return "CANCEL VERIFY"; },
            [](const auto&) { return "This statement"; },
        },
        stmt);
}

bool is_backup_statement(const statement& stmt) {
    return std::holds_alternative<create_repository_stmt>(stmt) || std::holds_alternative<alter_repository_stmt>(stmt) ||
           std::holds_alternative<drop_repository_stmt>(stmt) || std::holds_alternative<show_repositories_stmt>(stmt) ||
           std::holds_alternative<backup_stmt>(stmt) || std::holds_alternative<restore_stmt>(stmt) ||
           std::holds_alternative<show_backup_stmt>(stmt) || std::holds_alternative<show_restore_stmt>(stmt) ||
           std::holds_alternative<cancel_backup_stmt>(stmt) || std::holds_alternative<cancel_restore_stmt>(stmt) ||
           std::holds_alternative<show_snapshot_stmt>(stmt) || std::holds_alternative<drop_snapshot_stmt>(stmt) ||
           std::holds_alternative<verify_snapshot_stmt>(stmt) || std::holds_alternative<show_verify_stmt>(stmt) ||
           std::holds_alternative<cancel_verify_stmt>(stmt);
}

sql_error not_supported_statement(const statement& stmt) {
    return not_supported(statement_name(stmt));
}

}  // namespace tv::sql
