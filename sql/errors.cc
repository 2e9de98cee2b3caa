// SPDX-License-Identifier: Apache-2.0
// SQLSTATEs of the error taxonomy.
#include "sql/errors.hh"

namespace tv::sql {

std::string_view sqlstate(errc code) noexcept {
    switch (code) {
    case errc::access_denied: return "28000";
    case errc::query_interrupted: return "70100";
    case errc::too_many_connections: return "08004";
    case errc::out_of_range:
    case errc::data_out_of_range: return "22003";
    case errc::data_too_long: return "22001";
    case errc::bad_null: return "23000";
    case errc::no_db_selected: return "3D000";
    case errc::column_count_mismatch: return "21S01";
    case errc::unknown_command:
    case errc::net_packet_too_large:
    case errc::net_read_error: return "08S01";
    case errc::table_exists: return "42S01";
    case errc::bad_table:
    case errc::no_such_table: return "42S02";
    case errc::bad_field: return "42S22";
    case errc::duplicate_field: return "42S21";
    case errc::bad_db_name:
    case errc::bad_table_name:
    case errc::no_such_grant:
    case errc::no_such_function:
    case errc::access_denied_db:
    case errc::bad_db:
    case errc::parse:
    case errc::empty_query:
    case errc::table_access_denied:
    case errc::specific_access_denied:
    case errc::wrong_value_for_var:
    case errc::wrong_field_with_group:
    case errc::wrong_paramcount_to_native_fct:
    case errc::not_supported_yet: return "42000";
    case errc::no_such_thread:
    case errc::kill_denied:
    case errc::query_timeout:
    case errc::db_create_exists:
    case errc::db_drop_missing:
    case errc::unknown:
    case errc::unknown_system_variable:
    case errc::cannot_user:
    case errc::read_only_variable:
    case errc::malformed_packet:
    case errc::function_exists:
    case errc::wrong_object:
    case errc::drop_partition_missing:
    case errc::same_partition_name:
    case errc::invalid_group_func_use:
    case errc::truncated_wrong_value: return "HY000";
    }
    return "HY000";
}

sql_error not_supported(std::string_view what) {
    return make_error(errc::not_supported_yet, "{} is not supported yet", what);
}

sql_error to_sql_error(const storage::storage_error& e, failed_statement kind) {
    using storage::storage_errc;
    errc code = errc::unknown;
    switch (e.code) {
    case storage_errc::database_exists: code = errc::db_create_exists; break;
    case storage_errc::unknown_database: code = errc::bad_db; break;
    case storage_errc::table_exists: code = errc::table_exists; break;
    case storage_errc::unknown_table:
    case storage_errc::unknown_view:
    case storage_errc::unknown_materialized_view:
        code = kind == failed_statement::drop ? errc::bad_table : errc::no_such_table;
        break;
    case storage_errc::wrong_object_type: code = errc::wrong_object; break;
    case storage_errc::duplicate_column: code = errc::duplicate_field; break;
    case storage_errc::partition_exists: code = errc::same_partition_name; break;
    case storage_errc::unknown_partition: code = errc::drop_partition_missing; break;
    case storage_errc::function_exists: code = errc::function_exists; break;
    case storage_errc::unknown_function: code = errc::no_such_function; break;
    case storage_errc::catalog_exists: code = errc::db_create_exists; break;
    case storage_errc::unknown_catalog: code = errc::bad_db; break;
    case storage_errc::repository_exists: code = errc::db_create_exists; break;
    case storage_errc::unknown_repository: code = errc::bad_db; break;
    case storage_errc::user_exists:
    case storage_errc::unknown_user: code = errc::cannot_user; break;
    case storage_errc::unknown_role: code = errc::parse; break;
    case storage_errc::no_such_grant: code = errc::no_such_grant; break;
    case storage_errc::bad_name: code = errc::bad_table_name; break;
    case storage_errc::bad_definition: code = errc::parse; break;
    case storage_errc::not_allowed: code = errc::specific_access_denied; break;
    // Failures of the data itself: the message names the file or value; MySQL has no closer errno.
    case storage_errc::invalid_value:
    case storage_errc::io_error:
    case storage_errc::outcome_unknown:
    case storage_errc::corrupt_metadata:
    case storage_errc::corrupt_data:
    case storage_errc::already_exists:
    case storage_errc::invalid_batch: code = errc::unknown; break;
    }
    return sql_error{code, e.message};
}

}  // namespace tv::sql
