// SPDX-License-Identifier: Apache-2.0
// RESTORE's choice of objects (spec §6.1): which of a snapshot's tables (and partitions),
// materialized views, views, functions and external catalogs a statement restores, under which
// names, into which database, with StarRocks' messages for what the snapshot does not hold.
// Pure: it reads the snapshot's meta and info, not the catalog or the store.
#pragma once

#include "jobs/backup_plan.hh"
#include "jobs/job_error.hh"
#include "jobs/restore_source.hh"

#include <optional>
#include <string>
#include <vector>

namespace tv::jobs {

struct restore_request {
    std::string label;
    std::string repository;
    std::string target_db;                ///< the old form's `db.` prefix, or DATABASE's AS
    std::optional<std::string> snapshot_db;  ///< DATABASE x: must be the snapshot's database
    std::vector<requested_object> objects;   ///< empty without ON: everything in the snapshot
    bool catalog_job = false;
    bool all_catalogs = false;
    std::vector<std::pair<std::string, std::optional<std::string>>> catalogs;  ///< name, AS
    std::vector<std::pair<std::string, std::string>> properties;
};

/// One object to restore: its name in the snapshot and the name it gets here.
struct restored_object {
    std::string name;
    std::string local_name;
    std::vector<std::string> partitions;  ///< tables: empty = all of the snapshot's
};

struct restore_selection {
    std::string target_db;  ///< "" for an external-catalog restore
    std::vector<restored_object> tables;
    std::vector<restored_object> materialized_views;
    std::vector<restored_object> views;
    std::vector<restored_object> functions;  ///< by name; every overload of a name
    std::vector<restored_object> catalogs;
    std::string objects_text;  ///< SHOW RESTORE's RestoreObjs: `t`, `t PARTITIONS [p1, p2]`
};

/// Resolves `request` against the snapshot. Errors (StarRocks' words): "target database: x is
/// not existed in snapshot", "Table T does not exist in snapshot L", "Partition P of table T
/// does not exist in snapshot L", "Can not find restore function: F", "Duplicated table: T",
/// "Duplicated alias name: A", "Can not find restore catalog: C", "This is not a snapshot for
/// external catalog restore, snapshot: L", "Can not specify database for external catalog
/// snapshot".
job_result<restore_selection> select_restore(const snapshot_contents& snapshot, const restore_request& request);

/// The selection as the job record keeps it (JSON), and back; BAD_FILE for damaged text.
std::string encode_selection(const restore_selection& s);
job_result<restore_selection> decode_selection(std::string_view text);

}  // namespace tv::jobs
