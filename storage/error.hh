// SPDX-License-Identifier: Apache-2.0
// storage_error and storage_result<T>: how every storage/ operation reports failure: catalog
// changes, the journal, loads, partition routing, typed values and segment files.
#pragma once

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace tv::storage {

/// What went wrong, for the SQL layer to map to a MySQL errno. The suggested errno is noted;
/// sql/ owns the mapping (DROP of a missing table is 1051, other statements 1146, ...).
enum class storage_errc {
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
    bad_definition,             // 1064: a DDL statement that names things correctly but is invalid;
                                // also a load's rows that cannot go in (out of partition ranges)
    invalid_value,              // 1105: text that is not a value of its column's type
                                // ("Invalid INT value: 'x'"); callers usually word their own error
    not_allowed,                // 1227: e.g. dropping root
    io_error,                   // 1105: the file system said no (journal, segment files); the
                                // message carries its reason and the change did not happen
    outcome_unknown,            // 1105: the journal's write or fdatasync of the change's record
                                // failed, and the record may reach the disk yet: a restart
                                // replays it or not, and only then is it known
    corrupt_metadata,           // 1105, at open: the image or journal is damaged
    corrupt_data,               // 1105: a segment file's bytes do not decode; the message names
                                // the file and what is wrong
    already_exists,             // 1105: a published segment file is never replaced
    invalid_batch,              // 1105: rows that cannot be written (columns of unequal length, ...)
};

/// A failure with user-facing text: the StarRocks/MySQL wording for catalog errors ("Unknown
/// database 'd'"), the file and the problem for segment files ("segment /d/1_0.dat is corrupt:
/// checksum mismatch (stored 0x..., computed 0x...)").
struct storage_error {
    storage_errc code = storage_errc::io_error;
    std::string message;
};

/// The value or the error; `.has_value()`, `*r`, `r.error()` as with io::result.
template <class T>
using storage_result = boost::system::result<T, storage_error>;

inline storage_error make_error(storage_errc code, std::string message) {
    return storage_error{code, std::move(message)};
}

/// Found by boost::system::result::value() when it holds an error: a programming error, since
/// callers are expected to test has_value() first.
[[noreturn]] inline void throw_exception_from_error(const storage_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

}  // namespace tv::storage
