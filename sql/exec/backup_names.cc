// SPDX-License-Identifier: Apache-2.0
// The checks of sql/exec/backup_names.hh.
#include "sql/exec/backup_names.hh"

#include "io/printable.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::sql {

sql_result<void> check_backup_name(std::string_view what, std::string_view name, size_t max_bytes) {
    auto refuse = [&](std::string_view why) {
        return make_error(errc::bad_table_name, "Incorrect {} '{}': {}", what,
                          printable_excerpt(name, k_echoed_name_bytes), why);
    };
    if (name.empty()) {
        return refuse("it is empty");
    }
    if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
        return refuse("control characters (0x00-0x1F, 0x7F) are not allowed");
    }
    // A '/' would make the name several components of a key or a path, and '..' climb out of it.
    if (name.find('/') != std::string_view::npos) {
        return refuse("'/' is not allowed");
    }
    if (name.find("..") != std::string_view::npos) {
        return refuse("'..' is not allowed");
    }
    if (name.size() > max_bytes) {
        return refuse(fmt::format("longer than {} bytes ({} bytes)", max_bytes, name.size()));
    }
    return {};
}

sql_result<void> check_snapshot_label(std::string_view label) {
    return check_backup_name("snapshot label", label, k_max_label_bytes);
}

sql_result<void> check_repository_name(std::string_view name) {
    return check_backup_name("repository name", name, k_max_repository_name_bytes);
}

sql_result<void> check_backup_names(std::string_view label, std::string_view repository,
                                    const std::vector<backup_object>& objects) {
    if (auto bad = check_snapshot_label(label); !bad) {
        return bad;
    }
    if (auto bad = check_repository_name(repository); !bad) {
        return bad;
    }
    for (const auto& o : objects) {
        if (!o.name.db.empty()) {
            if (auto bad = check_backup_name("database name", o.name.db, k_max_object_name_bytes); !bad) {
                return bad;
            }
        }
        if (!o.all) {
            if (auto bad = check_backup_name("object name", o.name.name, k_max_object_name_bytes); !bad) {
                return bad;
            }
        }
        if (o.alias) {
            if (auto bad = check_backup_name("alias", *o.alias, k_max_object_name_bytes); !bad) {
                return bad;
            }
        }
        for (const auto& p : o.partitions) {
            if (auto bad = check_backup_name("partition name", p, k_max_object_name_bytes); !bad) {
                return bad;
            }
        }
    }
    return {};
}

sql_result<void> check_snapshot_filter_names(std::string_view repository,
                                             const std::optional<std::set<std::string>>& labels) {
    if (auto bad = check_repository_name(repository); !bad) {
        return bad;
    }
    for (const auto& label : labels.value_or(std::set<std::string>{})) {
        if (auto bad = check_snapshot_label(label); !bad) {
            return bad;
        }
    }
    return {};
}

}  // namespace tv::sql
