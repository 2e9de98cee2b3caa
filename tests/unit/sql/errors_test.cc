// SPDX-License-Identifier: Apache-2.0
// Every error number maps to the SQLSTATE MySQL uses for it: clients branch on both.
#include "sql/errors.hh"

#include <gtest/gtest.h>

using tv::sql::errc;
using tv::sql::sqlstate;

TEST(errors, sqlstate_of_every_error_number) {
    const std::pair<errc, std::string_view> expected[] = {
        {errc::db_create_exists, "HY000"},      {errc::db_drop_missing, "HY000"},
        {errc::access_denied_db, "42000"},      {errc::access_denied, "28000"},
        {errc::no_db_selected, "3D000"},        {errc::unknown_command, "08S01"},
        {errc::bad_db, "42000"},                {errc::table_exists, "42S01"},
        {errc::bad_table, "42S02"},             {errc::bad_field, "42S22"},
        {errc::duplicate_field, "42S21"},       {errc::parse, "42000"},
        {errc::empty_query, "42000"},           {errc::bad_db_name, "42000"},
        {errc::bad_table_name, "42000"},        {errc::unknown, "HY000"},
        {errc::function_exists, "HY000"},       {errc::no_such_grant, "42000"},
        {errc::table_access_denied, "42000"},   {errc::no_such_table, "42S02"},
        {errc::net_packet_too_large, "08S01"},  {errc::net_read_error, "08S01"},
        {errc::unknown_system_variable, "HY000"}, {errc::specific_access_denied, "42000"},
        {errc::wrong_value_for_var, "42000"},   {errc::not_supported_yet, "42000"},
        {errc::read_only_variable, "HY000"},    {errc::no_such_function, "42000"},
        {errc::wrong_object, "HY000"},          {errc::cannot_user, "HY000"},
        {errc::drop_partition_missing, "HY000"}, {errc::column_count_mismatch, "21S01"}, {errc::same_partition_name, "HY000"},
        {errc::out_of_range, "22003"},          {errc::malformed_packet, "HY000"},
        {errc::too_many_connections, "08004"},
        {errc::bad_null, "23000"},              {errc::wrong_field_with_group, "42000"},
        {errc::invalid_group_func_use, "HY000"}, {errc::data_out_of_range, "22003"},
        {errc::truncated_wrong_value, "HY000"}, {errc::data_too_long, "22001"},
        {errc::wrong_paramcount_to_native_fct, "42000"},
    };
    for (const auto& [code, state] : expected) {
        EXPECT_EQ(sqlstate(code), state) << "error " << static_cast<int>(code);
    }
}
