// SPDX-License-Identifier: Apache-2.0
// catalog_error and catalog_result<T>: how every catalog and journal operation reports failure.
#pragma once

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace tv::storage {

/// What went wrong, for the SQL layer to map to a MySQL errno. The suggested errno is noted;
/// sql/ owns the mapping (DROP of a missing table is 1051, other statements 1146, ...).
enum class catalog_errc {
    database_exists,            // 1007
    unknown_database,           // 1049 (DROP DATABASE: 1008)
    table_exists,               // 1050: tables, views and materialized views share one namespace
    unknown_table,              // 1051 / 1146
    unknown_view,               // 1051
    unknown_materialized_view,  // 1051
    wrong_object_type,          // 1347: DROP VIEW on a table and the like
    duplicate_column,           // 1060
    partition_exists,           // 1517
    unknown_partition,          // 1507
    function_exists,            // 1125
    unknown_function,           // 1305
    catalog_exists,             // 1007
    unknown_catalog,            // 1049
    user_exists,                // 1396
    unknown_user,               // 1396
    unknown_role,               // 1064
    repository_exists,          // 1007, as catalog_exists
    unknown_repository,         // 1049, as unknown_catalog
    no_such_grant,              // 1141
    bad_name,                   // 1102 / 1103
    bad_definition,             // 1064: a DDL statement that names things correctly but is invalid
    not_allowed,                // 1227: e.g. dropping root
    io_error,                   // 1105: the journal could not be written; the change did not happen
    corrupt_metadata,           // at open: the image or journal is damaged
};

/// A failure with user-facing text in the StarRocks/MySQL wording ("Unknown database 'd'").
struct catalog_error {
    catalog_errc code;
    std::string message;
};

/// The value or the error; `.has_value()`, `*r`, `r.error()` as with io::result.
template <class T>
using catalog_result = boost::system::result<T, catalog_error>;

inline catalog_error make_error(catalog_errc code, std::string message) {
    return catalog_error{code, std::move(message)};
}

/// Found by boost::system::result::value() when it holds an error: a programming error, since
/// callers are expected to test has_value() first.
[[noreturn]] inline void throw_exception_from_error(const catalog_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

}  // namespace tv::storage
