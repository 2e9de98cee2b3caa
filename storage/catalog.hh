// SPDX-License-Identifier: Apache-2.0
// The catalog: databases, tables, partitions, views, materialized views, functions, external
// catalogs and users, kept in memory and made durable through the journal before any change
// is visible or acknowledged.
//
// Threading: the catalog belongs to loop 0's thread (where the SQL front end runs) and has no
// locks. Changes are serialized among the coroutines of that loop: each one validates, appends
// its record (one write + one fdatasync), and only then applies the record with the same
// function replay uses, so the state after a restart is the state that was acknowledged.
#pragma once

#include "io/task.hh"
#include "storage/catalog_ops.hh"
#include "storage/catalog_state.hh"
#include "storage/catalog_types.hh"
#include "storage/error.hh"
#include "storage/password.hh"
#include "storage/serial_lock.hh"
#include "storage/table_builder.hh"
#include "storage/tablet_files.hh"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tv::storage {

class journal;

/// Limits on an external catalog's PROPERTIES (CREATE EXTERNAL CATALOG answers 1064 past them).
inline constexpr size_t k_max_catalog_properties = 100;
inline constexpr size_t k_max_catalog_property_name_bytes = 1024;
inline constexpr size_t k_max_catalog_property_value_bytes = 64 * 1024;

/// A load made visible: see catalog::publish_load().
struct load_publication {
    std::string db, table;                          // table or asynchronous materialized view name
    object_id table_id = 0;                         // must still match (else "changed during load")
    std::string label;                              // empty: none recorded; a used label is an error
    std::vector<object_id> overwritten_partitions;  // every tablet of these loses all earlier rowsets
    std::vector<std::pair<object_id, rowset>> rowsets;  // tablet id -> new rowset (its version is set here)
    /// Partition id -> the visible_version it must still have (UPDATE and DELETE rewrite rows
    /// they read at that version; a load meanwhile would be lost or overwritten with old values).
    std::vector<std::pair<object_id, int64_t>> expected_versions;
};

/// A BACKUP or RESTORE job that has not ended and holds a database or one of its objects.
struct job_hold {
    std::string kind;   // "BACKUP" or "RESTORE"
    std::string label;
};

/// Who holds `object` of database `db` (`object` empty: anything in the database), if a job
/// does. The job tracker installs one: jobs/ sits above storage/.
using hold_finder = std::function<std::optional<job_hold>(std::string_view db, std::string_view object)>;

struct catalog_options {
    /// root's password (the root_password configuration key; empty: none). root is built in:
    /// its password always comes from here and is not stored in the journal.
    std::string root_password;
    /// Write a checkpoint image after this many records since the last one (and at close()).
    uint64_t checkpoint_every = 10000;
    /// open() removes the files no rowset references (remove_orphan_files). False: the caller
    /// calls sweep_orphan_files() once it knows which unpublished tablets to keep (the server's
    /// job tracker, after reading the restores it resumes and before running any).
    bool sweep_orphans_at_open = true;
};

class catalog {
public:
    /// Opens the catalog under `<data_dir>/meta` (created 0700 when missing): loads the newest
    /// image, replays the journal after it, and drops a torn last record (see journal::open).
    /// Fails with corrupt_metadata when the files are damaged beyond a torn tail.
    static io::task<storage_result<std::unique_ptr<catalog>>> open(std::string data_dir, catalog_options options);

    ~catalog();
    catalog(const catalog&) = delete;
    catalog& operator=(const catalog&) = delete;

    /// Clean shutdown: a checkpoint if anything changed since the last one, then closes files.
    io::task<storage_result<void>> close();
    /// Writes an image now (no-op when nothing changed since the last one).
    io::task<storage_result<void>> checkpoint();
    /// Removes the files of tablet directories that no rowset references, except under the
    /// tablets in `keep` (see remove_orphan_files). Start-up only, before any load runs.
    void sweep_orphan_files(const std::set<object_id>& keep);

    // ---- Changes. Each returns once durable; creations yield the new object's id (0 when
    // ---- IF NOT EXISTS found the object already there).

    io::task<storage_result<object_id>> create_database(std::string name, properties props = {},
                                                        bool if_not_exists = false);
    io::task<storage_result<void>> drop_database(std::string name, bool if_exists = false);

    io::task<storage_result<object_id>> create_table(std::string db, table_definition def, bool if_not_exists = false);
    io::task<storage_result<void>> drop_table(std::string db, std::string name, bool if_exists = false);
    io::task<storage_result<object_id>> add_partition(std::string db, std::string table, partition_desc desc,
                                                      bool if_not_exists = false);
    io::task<storage_result<void>> drop_partition(std::string db, std::string table, std::string partition,
                                                  bool if_exists = false);
    /// New partition and tablet ids for the named partitions (all when empty), version 1.
    io::task<storage_result<void>> truncate_table(std::string db, std::string table,
                                                  std::vector<std::string> partitions = {});

    /// CREATE MATERIALIZED VIEW without REFRESH: a synchronous one, an index of `table`.
    io::task<storage_result<object_id>> create_sync_materialized_view(std::string db, std::string table,
                                                                      std::string name, std::string query_text,
                                                                      std::vector<column> columns,
                                                                      bool if_not_exists = false);
    /// An asynchronous one; `mv.id`, `mv.active` and `mv.storage` are ignored (it starts active).
    /// With `mv.columns` it gets storage: one partition named as the view with dist.buckets
    /// tablets in one index whose id is the view's; refreshes load it (publish_load with the
    /// partition overwritten).
    io::task<storage_result<object_id>> create_materialized_view(std::string db, materialized_view mv,
                                                                 bool if_not_exists = false);
    /// Drops either kind: an asynchronous view of that name, else a synchronous one on any table.
    io::task<storage_result<void>> drop_materialized_view(std::string db, std::string name, bool if_exists = false);
    /// ALTER MATERIALIZED VIEW ... ACTIVE | INACTIVE; activating needs every base table present.
    io::task<storage_result<void>> set_materialized_view_active(std::string db, std::string name, bool active);

    /// CREATE [OR REPLACE] VIEW; `v.id` is ignored. A replaced view keeps its id.
    io::task<storage_result<object_id>> create_view(std::string db, view v, bool if_not_exists = false,
                                                    bool or_replace = false);
    /// ALTER VIEW: new columns and query for an existing view.
    io::task<storage_result<void>> alter_view(std::string db, view v);
    io::task<storage_result<void>> drop_view(std::string db, std::string name, bool if_exists = false);

    /// CREATE [GLOBAL] FUNCTION: `db` empty for a global one; `fn.id` and `fn.global` are set here.
    io::task<storage_result<object_id>> create_function(std::string db, function fn, bool if_not_exists = false);
    io::task<storage_result<void>> drop_function(std::string db, std::string name, std::vector<std::string> arg_types,
                                                 bool variadic = false, bool if_exists = false);

    /// CREATE EXTERNAL CATALOG: PROPERTIES must name its "type" and stay within the limits above.
    io::task<storage_result<object_id>> create_external_catalog(std::string name, std::string comment,
                                                                properties props, bool if_not_exists = false);
    io::task<storage_result<void>> drop_external_catalog(std::string name, bool if_exists = false);

    /// CREATE USER 'name'@'host' [IDENTIFIED BY ...]: `password_hash` from native_password_hash()
    /// (or as given with IDENTIFIED BY PASSWORD '*...'); empty for no password.
    io::task<storage_result<void>> create_user(std::string name, std::string host, std::string password_hash,
                                               bool if_not_exists = false);
    io::task<storage_result<void>> drop_user(std::string name, std::string host, bool if_exists = false);
    io::task<storage_result<void>> set_password(std::string name, std::string host, std::string password_hash);
    /// GRANT / REVOKE role [, role] TO | FROM user: db_admin and user_admin.
    io::task<storage_result<void>> grant_roles(std::string name, std::string host, std::vector<std::string> roles);
    io::task<storage_result<void>> revoke_roles(std::string name, std::string host, std::vector<std::string> roles);
    /// GRANT / REVOKE SELECT, INSERT ON db.table (either may be "*").
    io::task<storage_result<void>> grant_privileges(std::string name, std::string host, std::vector<privilege> privs,
                                                    std::string db, std::string table);
    io::task<storage_result<void>> revoke_privileges(std::string name, std::string host, std::vector<privilege> privs,
                                                     std::string db, std::string table);

    // ---- Renames (storage/catalog_rename.cc). Each is one journal record; all are refused
    // ---- while a BACKUP or RESTORE job holds the table or the database (see set_hold_finder).

    /// ALTER TABLE t RENAME t2. An unpartitioned table's partition and the base index, named as
    /// the table, take the new name too; grants follow the table; asynchronous materialized
    /// views on it become inactive ("base-table renamed: db.t"); views keep their text.
    io::task<storage_result<void>> rename_table(std::string db, std::string name, std::string new_name);
    /// ALTER TABLE a SWAP WITH b: both names change in one record.
    io::task<storage_result<void>> swap_tables(std::string db, std::string name, std::string other);
    /// ALTER TABLE t RENAME PARTITION p p2 (partitioned tables only).
    io::task<storage_result<void>> rename_partition(std::string db, std::string table, std::string partition,
                                                    std::string new_name);
    /// ALTER DATABASE d RENAME d2.
    io::task<storage_result<void>> rename_database(std::string name, std::string new_name);
    /// Installs (or, empty, removes) the function that says which job holds what.
    void set_hold_finder(hold_finder finder) { _hold_finder = std::move(finder); }
    /// bad_definition "Table [t] is under BACKUP job 'l': RENAME is refused until the job ends
    /// (SHOW BACKUP)" when a job holds it (`object` empty: the database, "Database [d] ...").
    storage_result<void> check_not_held(std::string_view db, std::string_view object,
                                        std::string_view operation) const;

    /// CREATE REPOSITORY: `r.id` is set here; `r.create_time_ms` is kept when set (a ping may
    /// have adopted the store's own time), else now. Errors: a bad name, "repository with same
    /// name already exist: R". The caller has already checked that the store answers.
    io::task<storage_result<object_id>> create_repository(repository r);
    /// DROP REPOSITORY: metadata only. Error: "Repository [R] does not exist".
    io::task<storage_result<void>> drop_repository(std::string name);

    // ---- Tablet data.

    /// Makes a load visible in one journal record: each partition it touches (one holding a
    /// tablet in `p.rowsets`, or listed as overwritten) gets visible_version + 1 and the new
    /// rowsets that version; tablets of overwritten partitions lose their earlier rowsets, whose
    /// files are deleted once no scan that started before reads them. Errors: unknown database,
    /// the table dropped or changed ("Table 't' changed during load: ..."), a used label
    /// ("Label [l] has already been used.").
    io::task<storage_result<void>> publish_load(load_publication p);
    // ---- RESTORE.

    /// Publishes a restore in one record (see ops::publish_restore). Errors when what the job
    /// planned no longer fits: a name it creates was taken meanwhile ("... was created while the
    /// restore ran"), a table it overwrites was dropped or recreated.
    io::task<storage_result<void>> publish_restore(ops::publish_restore change);
    /// Whether that record is already applied (a job resumed after a crash in COMMIT): the
    /// catalog holds one of the objects or tablets it created, whose ids nothing else gets.
    bool restore_published(const ops::publish_restore& change) const;
    /// The journal failed a write or an fdatasync: no change is accepted any more, and whether
    /// the last one reaches the disk is known only when a restart replays the journal.
    bool journal_failed() const;
    /// While a restore works on a table, loads into it and DDL on it are refused with a message
    /// naming the job's label. Not journaled: a resumed job marks its tables again.
    void mark_restoring(const std::string& db, const std::string& table, const std::string& label);
    void unmark_restoring(const std::string& db, const std::string& table);
    /// bad_definition "Table 't' is being restored by RESTORE job 'l'; ... " when it is.
    storage_result<void> check_not_restoring(std::string_view db, std::string_view table) const;

    /// The tablet's published rowsets in version order; empty when it has none.
    const std::vector<rowset>& tablet_rowsets(object_id tablet) const;
    bool label_used(std::string_view db, std::string_view label) const;
    /// An id no other object gets, for a load's rowsets. It may not be durable yet: call
    /// ensure_ids_durable() before any file named with it is created, so that a crash cannot
    /// hand it out again. Ids come from a journaled lease, so that is rarely a journal write.
    object_id allocate_id();
    /// Journals the id counter (leasing a block of ids ahead) unless `id` is already covered.
    io::task<storage_result<void>> ensure_ids_durable(object_id id);
    /// Keeps every tablet file referenced now until the pin is destroyed (scans hold one).
    file_reclaimer::pin pin_files() const { return _reclaimer->take_pin(); }
    /// Where the catalog was opened: meta/ and storage/data/ live below it.
    const std::string& data_dir() const noexcept { return _data_dir; }
    /// The data dir's random id (storage/cluster_id.hh), made when the data dir was created.
    const std::string& cluster_id() const noexcept { return _cluster_id; }
    /// The deleter behind pin_files() (tests look at what is pending).
    const file_reclaimer& reclaimer() const noexcept { return *_reclaimer; }

    // ---- Reads: plain accessors; pointers stay valid until the next change.

    const database* find_database(std::string_view name) const;
    const table* find_table(std::string_view db, std::string_view name) const;
    const view* find_view(std::string_view db, std::string_view name) const;
    const materialized_view* find_materialized_view(std::string_view db, std::string_view name) const;
    /// `db` empty: global functions. Name and argument types compare case-insensitively.
    const function* find_function(std::string_view db, std::string_view name, const std::vector<std::string>& arg_types,
                                  bool variadic = false) const;
    const external_catalog* find_external_catalog(std::string_view name) const;
    const repository* find_repository(std::string_view name) const;
    const std::map<std::string, repository>& repositories() const noexcept { return _state.repositories; }
    std::vector<std::string> list_databases() const;
    const std::map<std::string, database>& databases() const noexcept { return _state.databases; }
    const std::map<std::string, external_catalog>& external_catalogs() const noexcept { return _state.catalogs; }
    const std::vector<function>& global_functions() const noexcept { return _state.global_functions; }

    /// The user with exactly this name and host (root included).
    const user* find_user(std::string_view name, std::string_view host) const;
    /// The user a login from `client_host` authenticates as: an exact host first, then the
    /// most specific pattern ('%' and '_' wildcards) that matches.
    const user* match_user(std::string_view name, std::string_view client_host) const;
    /// Every user, root first.
    std::vector<const user*> users() const;
    /// Whether `u` may read (SELECT) or write (INSERT) db.table: root and db_admin may do all.
    bool has_table_privilege(const user& u, privilege p, std::string_view db, std::string_view table) const;

    /// Sequence of the last change (the journal record), 0 for a new catalog.
    uint64_t last_sequence() const noexcept;
    /// The id the next new object gets.
    object_id next_id() const noexcept { return _state.next_id; }

    /// Every field of the state as deterministic text, for tests and debugging. Password
    /// hashes appear only as a short fingerprint.
    std::string dump() const;

private:
    catalog();

    /// Journals `change`, applies it, and checkpoints when due. Callers hold _write_lock.
    /// Callers build the op in a named local and pass it moved: GCC 12 mishandles a braced
    /// aggregate prvalue argument inside a co_await expression (`co_await commit(n, op{...})`
    /// destroys a bitwise copy), which tests/unit/storage catches under ASan.
    io::task<storage_result<void>> commit(object_id next_id, ops::op change);
    io::task<storage_result<void>> checkpoint_locked();

    database* db_mut(std::string_view name);
    /// Unknown database / table errors in StarRocks' words.
    storage_result<const database*> need_database(std::string_view name) const;
    storage_result<const table*> need_table(std::string_view db, std::string_view name) const;
    /// Tables, views and asynchronous materialized views share one namespace in a database.
    bool name_taken(const database& d, std::string_view name) const;
    storage_result<void> check_user_target(std::string_view name, std::string_view host,
                                           std::string_view operation) const;
    io::task<storage_result<void>> change_roles(std::string name, std::string host, std::vector<std::string> roles,
                                                bool grant);
    io::task<storage_result<void>> change_privileges(std::string name, std::string host, std::vector<privilege> privs,
                                                     std::string db, std::string table, bool grant);

    /// The target of a load: a table's partitions, or an asynchronous view's storage partition.
    struct load_target {
        object_id id = 0;
        std::vector<const partition*> partitions;
    };
    std::optional<load_target> find_load_target(std::string_view db, std::string_view name) const;

    catalog_state _state;
    std::map<std::pair<std::string, std::string>, std::string> _restoring;  // (db, table) -> job label
    hold_finder _hold_finder;
    std::string _data_dir;
    std::string _cluster_id;
    std::shared_ptr<file_reclaimer> _reclaimer;
    object_id _durable_next_id = first_object_id;  // next_id of the last journaled record
    object_id _lease_next = 0;                     // [_lease_next, _lease_end): durable ids for allocate_id()
    object_id _lease_end = 0;
    user _root;
    catalog_options _options;
    std::unique_ptr<journal> _journal;
    serial_lock _write_lock;
};

}  // namespace tv::storage
