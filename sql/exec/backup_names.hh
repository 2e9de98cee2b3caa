// SPDX-License-Identifier: Apache-2.0
// Names that BACKUP, RESTORE, SHOW SNAPSHOT and the repository statements take from the client
// and that end up in repository keys, directory names, job records and the log: snapshot
// labels, repository names, and the objects (and AS aliases) of an ON / EXCLUDE clause. Each is
// checked before anything is looked up, so a hostile name is refused with the reason, never
// turned into a path.
#pragma once

#include "sql/errors.hh"
#include "sql/parser/ast_backup.hh"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tv::sql {

/// Longest snapshot label (StarRocks' label limit).
inline constexpr size_t k_max_label_bytes = 128;
/// Longest repository name (the catalog's limit).
inline constexpr size_t k_max_repository_name_bytes = 1024;
/// Longest object name or alias (the catalog's limit for tables and views).
inline constexpr size_t k_max_object_name_bytes = 1024;

/// Error 1103 "Incorrect <what> '<name>': <reason>" for an empty name, a '/', a "..", a control
/// character (0x00-0x1F, 0x7F) or more than `max_bytes` bytes.
sql_result<void> check_backup_name(std::string_view what, std::string_view name, size_t max_bytes);

sql_result<void> check_snapshot_label(std::string_view label);
sql_result<void> check_repository_name(std::string_view name);

/// BACKUP's and RESTORE's label, repository, and every name, alias and partition of their ON /
/// EXCLUDE clause.
sql_result<void> check_backup_names(std::string_view label, std::string_view repository,
                                    const std::vector<backup_object>& objects);

/// SHOW SNAPSHOT's repository and the labels of its WHERE (none: every label).
sql_result<void> check_snapshot_filter_names(std::string_view repository,
                                             const std::optional<std::set<std::string>>& labels);

}  // namespace tv::sql
