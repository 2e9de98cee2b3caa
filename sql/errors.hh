// SPDX-License-Identifier: Apache-2.0
// The SQL layer's error model: one taxonomy of user-facing errors, each with its MySQL error
// number and SQLSTATE, carried to the client as an ERR packet. Messages are asserted by tests.
#pragma once

#include "storage/error.hh"

#include <boost/system/result.hpp>
#include <fmt/format.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tv::sql {

enum class errc : uint16_t {
    db_create_exists = 1007,       // HY000
    too_many_connections = 1040,   // 08004
    db_drop_missing = 1008,        // HY000
    access_denied_db = 1044,       // 42000
    access_denied = 1045,          // 28000
    no_db_selected = 1046,         // 3D000
    unknown_command = 1047,        // 08S01
    bad_db = 1049,                 // 42000
    table_exists = 1050,           // 42S01
    bad_table = 1051,              // 42S02
    bad_field = 1054,              // 42S22
    duplicate_field = 1060,        // 42S21
    bad_db_name = 1102,            // 42000
    bad_table_name = 1103,         // 42000
    parse = 1064,                  // 42000
    empty_query = 1065,            // 42000
    unknown = 1105,                // HY000
    function_exists = 1125,        // HY000
    no_such_grant = 1141,          // 42000
    table_access_denied = 1142,    // 42000
    no_such_table = 1146,          // 42S02
    net_packet_too_large = 1153,   // 08S01
    net_read_error = 1158,         // 08S01
    unknown_system_variable = 1193,// HY000
    specific_access_denied = 1227, // 42000
    no_such_function = 1305,       // 42000
    wrong_object = 1347,           // HY000
    wrong_value_for_var = 1231,    // 42000
    read_only_variable = 1238,     // HY000
    not_supported_yet = 1235,      // 42000
    cannot_user = 1396,            // HY000
    drop_partition_missing = 1507, // HY000
    same_partition_name = 1517,    // HY000
    out_of_range = 1690,           // 22003
    malformed_packet = 1835,       // HY000
    bad_null = 1048,               // 23000
    column_count_mismatch = 1136,  // 21S01
    wrong_field_with_group = 1055, // 42000
    invalid_group_func_use = 1111, // HY000
    data_out_of_range = 1264,      // 22003
    truncated_wrong_value = 1366,  // HY000
    data_too_long = 1406,          // 22001
    wrong_paramcount_to_native_fct = 1582,  // 42000
    no_such_thread = 1094,         // HY000
    kill_denied = 1095,            // HY000
    query_interrupted = 1317,      // 70100
    query_timeout = 3024,          // HY000: MySQL's ER_QUERY_TIMEOUT. StarRocks answers 5024, which the
                                   // MariaDB client (Debian's `mysql`) reads as a malformed packet.
};

/// SQLSTATE for an error number.
std::string_view sqlstate(errc code) noexcept;

/// An error as the client sees it.
struct sql_error {
    errc code = errc::unknown;
    std::string message;

    uint16_t number() const noexcept { return static_cast<uint16_t>(code); }
};

/// The value or the error a client will see; `sql_result<void>` is "done, or this error".
/// As with io::result: test it (true on success), then `*r` or `r.error()`.
template <class T>
using sql_result = boost::system::result<T, sql_error>;

/// Found by boost::system::result::value() when it holds an error: a programming error, since
/// callers test the result first.
[[noreturn]] inline void throw_exception_from_error(const sql_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

template <class... Args>
sql_error make_error(errc code, fmt::format_string<Args...> format, Args&&... args) {
    return {code, fmt::format(format, std::forward<Args>(args)...)};
}

/// "not supported yet" for a statement whose execution belongs to later work: an honest error,
/// never a silent success.
sql_error not_supported(std::string_view what);

/// How a failed catalog change is reported depends on the statement: DROP of a missing table
/// is MySQL's 1051, other statements' 1146.
enum class failed_statement { other, drop };

/// Maps a catalog failure to the MySQL error the client sees.
sql_error to_sql_error(const storage::storage_error& e, failed_statement kind = failed_statement::other);

}  // namespace tv::sql
