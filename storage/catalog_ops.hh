// SPDX-License-Identifier: Apache-2.0
// The journal's record types: one struct per catalog change, holding the change fully resolved
// (ids assigned, bounds computed), so that replay needs no validation and cannot diverge.
#pragma once

#include "storage/catalog_state.hh"
#include "storage/catalog_types.hh"
#include "storage/error.hh"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tv::storage::ops {

struct create_database {
    static constexpr std::string_view op_name = "create_database";
    database db;  // empty of tables and views
};
struct drop_database {
    static constexpr std::string_view op_name = "drop_database";
    std::string db;
};
struct create_table {
    static constexpr std::string_view op_name = "create_table";
    std::string db;
    table tbl;
};
struct drop_table {
    static constexpr std::string_view op_name = "drop_table";
    std::string db;
    std::string table;
};
struct add_partition {
    static constexpr std::string_view op_name = "add_partition";
    std::string db;
    std::string table;
    partition part;
};
struct drop_partition {
    static constexpr std::string_view op_name = "drop_partition";
    std::string db;
    std::string table;
    std::string partition;
};
/// The partitions replace the table's partitions of the same names.
struct truncate_table {
    static constexpr std::string_view op_name = "truncate_table";
    std::string db;
    std::string table;
    std::vector<partition> partitions;
};
/// The tablets a new index gets in one partition.
struct partition_tablets {
    object_id partition_id = 0;
    std::vector<object_id> tablet_ids;
};
struct create_index {
    static constexpr std::string_view op_name = "create_index";
    std::string db;
    std::string table;
    materialized_index index;
    std::vector<partition_tablets> tablets;
};
struct drop_index {
    static constexpr std::string_view op_name = "drop_index";
    std::string db;
    std::string table;
    std::string index;
};
/// Creates the view or replaces the one of that name.
struct put_view {
    static constexpr std::string_view op_name = "put_view";
    std::string db;
    view v;
};
struct drop_view {
    static constexpr std::string_view op_name = "drop_view";
    std::string db;
    std::string view;
};
struct create_mv {
    static constexpr std::string_view op_name = "create_mv";
    std::string db;
    materialized_view mv;
};
struct drop_mv {
    static constexpr std::string_view op_name = "drop_mv";
    std::string db;
    std::string mv;
};
struct set_mv_active {
    static constexpr std::string_view op_name = "set_mv_active";
    std::string db;
    std::string mv;
    bool active = true;
    std::string reason;
};
struct create_function {
    static constexpr std::string_view op_name = "create_function";
    std::string db;  // empty: global
    function fn;
};
struct drop_function {
    static constexpr std::string_view op_name = "drop_function";
    std::string db;  // empty: global
    object_id id = 0;
};
struct create_catalog {
    static constexpr std::string_view op_name = "create_catalog";
    external_catalog cat;
};
struct drop_catalog {
    static constexpr std::string_view op_name = "drop_catalog";
    std::string name;
};
struct create_user {
    static constexpr std::string_view op_name = "create_user";
    user u;
};
struct drop_user {
    static constexpr std::string_view op_name = "drop_user";
    std::string name;
    std::string host;
};
struct set_password {
    static constexpr std::string_view op_name = "set_password";
    std::string name;
    std::string host;
    std::string password_hash;
};
/// GRANT / REVOKE of roles and table privileges; `grant` false revokes.
struct change_roles {
    static constexpr std::string_view op_name = "change_roles";
    std::string name;
    std::string host;
    bool grant = true;
    std::vector<std::string> roles;
};
struct change_grants {
    static constexpr std::string_view op_name = "change_grants";
    std::string name;
    std::string host;
    bool grant = true;
    std::vector<table_grant> grants;
};
struct create_repository {
    static constexpr std::string_view op_name = "create_repository";
    repository repo;
};
/// Metadata only: the store's contents stay.
struct drop_repository {
    static constexpr std::string_view op_name = "drop_repository";
    std::string name;
};

/// One new rowset for one tablet.
struct tablet_rowset {
    object_id tablet_id = 0;
    rowset data;  // its version is set by apply: the partition's new visible_version
};
/// A load becoming visible: each partition it touches (holding one of the tablets, or listed
/// as overwritten) gets visible_version + 1, and the new rowsets get that version. Tablets of
/// overwritten partitions lose their earlier rowsets first.
struct publish_load {
    static constexpr std::string_view op_name = "publish_load";
    std::string db;
    std::string table;  // a table or an asynchronous materialized view
    object_id table_id = 0;
    std::string label;  // empty: none recorded
    int64_t label_time_ms = 0;  // when it was published: the label's time and the partitions' version time
    std::vector<object_id> overwritten_partitions;
    std::vector<tablet_rowset> rowsets;
};
/// Partitions a restore puts into a table that exists: `replaced` take the place of the
/// table's partitions of the same names (their old tablets go), `added` join them.
struct restored_partitions {
    std::string table;
    object_id table_id = 0;  // must still match
    std::vector<partition> replaced;
    std::vector<partition> added;
};
/// A restored tablet's rowsets, versions as backed up; its files are already in its directory.
struct restored_tablet {
    object_id tablet_id = 0;
    std::vector<rowset> rowsets;
};
/// RESTORE's commit: everything one job restores, published in one record. Every id in it is
/// new (allocated when the job planned), so a record already applied is recognisable.
struct publish_restore {
    static constexpr std::string_view op_name = "publish_restore";
    std::string db;                        // empty: external catalogs only
    std::optional<database> new_database;  // created first, empty of objects
    std::vector<table> tables;             // new tables, whole
    std::vector<restored_partitions> partitions;  // into existing tables
    std::vector<view> views;               // replace views of the same names
    std::vector<materialized_view> mvs;    // new asynchronous materialized views
    std::vector<function> functions;       // replace functions of the same signatures
    std::vector<external_catalog> catalogs;  // new external catalogs
    std::vector<restored_tablet> tablets;  // new tablets' data (of `tables`, `partitions`, `mvs`)
};
/// ALTER TABLE t RENAME t2: the table (an unpartitioned one's partition and the base index,
/// named as the table, with it), its grants; materialized views on it become inactive.
struct rename_table {
    static constexpr std::string_view op_name = "rename_table";
    std::string db;
    std::string table;
    std::string new_name;
};
/// ALTER TABLE a SWAP WITH b: the two tables exchange names, as two renames in one record.
struct swap_tables {
    static constexpr std::string_view op_name = "swap_tables";
    std::string db;
    std::string table;
    std::string other;
};
/// ALTER TABLE t RENAME PARTITION p p2.
struct rename_partition {
    static constexpr std::string_view op_name = "rename_partition";
    std::string db;
    std::string table;
    std::string partition;
    std::string new_name;
};
/// ALTER DATABASE d RENAME d2: everything in it, its load labels and the grants on it.
struct rename_database {
    static constexpr std::string_view op_name = "rename_database";
    std::string db;
    std::string new_name;
};
/// Makes the id counter durable (next_id in the entry) so that ids handed out for files are
/// never handed out again, even after a crash. Changes nothing else.
struct reserve_ids {
    static constexpr std::string_view op_name = "reserve_ids";
};

using op = std::variant<create_database, drop_database, create_table, drop_table, add_partition, drop_partition,
                        truncate_table, create_index, drop_index, put_view, drop_view, create_mv, drop_mv,
                        set_mv_active, create_function, drop_function, create_catalog, drop_catalog, create_user,
                        drop_user, set_password, change_roles, change_grants, publish_load, reserve_ids,
                        create_repository, drop_repository, publish_restore, rename_table, swap_tables,
                        rename_partition, rename_database>;

}  // namespace tv::storage::ops

namespace tv::storage {

/// One journal record: the change and the id counter after it.
struct journal_entry {
    object_id next_id = first_object_id;
    ops::op change;
};

/// Tablet data a change took out of the catalog: its files can be deleted once no scan that
/// started before the change still reads them.
struct removed_data {
    struct file {
        object_id tablet_id = 0;
        std::string name;
    };
    std::vector<file> files;
    std::vector<object_id> tablets;  // tablets that are gone whole (their directories go too)
};

/// Applies `entry` to `state`: the one function both the live path (after the record is durable)
/// and replay use. Fails with corrupt_metadata describing why when the record does not fit the
/// state, which means the metadata is damaged or a bug let an invalid change through. When
/// `removed` is given, the files and tablets the change dropped are added to it.
storage_result<void> apply_entry(catalog_state& state, const journal_entry& entry, removed_data* removed = nullptr);

/// The renames' effect (storage/catalog_rename.cc), for apply_entry: corrupt_metadata when the
/// record does not fit.
storage_result<void> apply_rename(catalog_state& state, const ops::rename_table& op);
storage_result<void> apply_rename(catalog_state& state, const ops::swap_tables& op);
storage_result<void> apply_rename(catalog_state& state, const ops::rename_partition& op);
storage_result<void> apply_rename(catalog_state& state, const ops::rename_database& op);

/// Whether a restore's record fits `state` (apply_entry checks it too): the names it creates are
/// free, the tables and partitions it replaces are there, its tablets are new.
storage_result<void> check_restore(const catalog_state& state, const ops::publish_restore& op);

/// JSON text of a record and of a whole state (the image body), and back. Decoding failures
/// are corrupt_metadata errors.
std::string encode_entry(const journal_entry& entry);
storage_result<journal_entry> decode_entry(std::string_view payload);
std::string encode_state(const catalog_state& state);
/// BACKUP's meta object: the definitions of the chosen objects (`objects`, a database holding
/// only them, partitions trimmed to the chosen ones) and of external catalogs, in the image's
/// JSON form with a format number of its own.
std::string encode_backup_meta(const database& objects, const std::vector<external_catalog>& catalogs);

/// A backup meta read back: the objects' definitions as they were backed up (their ids are the
/// source server's).
struct backup_meta {
    database objects;
    std::vector<external_catalog> catalogs;
};

/// The reverse of encode_backup_meta; corrupt_metadata naming `what` for anything else (a newer
/// format included).
storage_result<backup_meta> decode_backup_meta(std::string_view text, std::string_view what);
storage_result<catalog_state> decode_state(std::string_view payload);

}  // namespace tv::storage
