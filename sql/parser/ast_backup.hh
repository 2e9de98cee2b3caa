// SPDX-License-Identifier: Apache-2.0
// AST for repositories, BACKUP, RESTORE and their SHOW / CANCEL / DROP SNAPSHOT / VERIFY companions:
// StarRocks old and v3.4 syntax and the Doris forms (see reference/starrocks-backup-spec.md §1, §8).
#pragma once

#include "sql/parser/ast_select.hh"

namespace tv::sql {

enum class repository_kind : uint8_t {
    broker,  ///< WITH BROKER [name]: StarRocks; no name means brokerless (native FS / S3)
    s3,      ///< WITH S3: Doris
    hdfs,    ///< WITH HDFS: Doris
};

/// CREATE [READ ONLY] REPOSITORY r WITH {BROKER [b] | S3 | HDFS} ON LOCATION 'loc' [PROPERTIES (...)]
struct create_repository_stmt {
    bool read_only = false;
    std::string name;
    repository_kind kind = repository_kind::broker;
    std::optional<std::string> broker_name;
    std::string location;
    property_list properties;
};

/// ALTER REPOSITORY r PROPERTIES (...)  (Doris)
struct alter_repository_stmt {
    std::string name;
    property_list properties;
};

/// DROP REPOSITORY r
struct drop_repository_stmt {
    std::string name;
};

/// SHOW REPOSITORIES [WHERE] [ORDER BY] [LIMIT]
struct show_repositories_stmt {
    show_predicate predicate;
};

/// An external catalog named in BACKUP/RESTORE: name [AS alias]. BACKUP's grammar has no AS;
/// it is parsed anyway so the executor can refuse it with a clear message.
struct catalog_ref {
    std::string name;
    std::optional<std::string> alias;
};

enum class catalog_scope : uint8_t {
    none,  ///< no catalog clause
    all,   ///< ALL EXTERNAL CATALOGS
    listed,  ///< EXTERNAL CATALOG(S) (c, ...)
};

enum class backup_object_kind : uint8_t { table, materialized_view, view, function };

/// One entry of ON (...) / EXCLUDE (...):
///   t [PARTITION (p, ...)] [AS a]              old bare form: kind table, bare
///   TABLE(S) t [PARTITION (...)] [AS a]       ALL TABLE(S)
///   MATERIALIZED VIEW(S) mv [AS a]            ALL MATERIALIZED VIEW(S)
///   VIEW(S) v [AS a]                          ALL VIEW(S)
///   FUNCTION(S) f [AS a]                      ALL FUNCTION(S)
/// AS is parsed for BACKUP too; StarRocks rejects it there ("Can not set alias for table in
/// Backup Stmt: ..."), which is the executor's call.
struct backup_object {
    backup_object_kind kind = backup_object_kind::table;
    bool all = false;
    bool bare = false;  ///< the old form without an object type word
    qualified_name name;
    std::vector<std::string> partitions;
    std::optional<std::string> alias;
};

enum class object_filter : uint8_t {
    none,     ///< no ON / EXCLUDE: the whole database
    on,       ///< ON (...): only these
    exclude,  ///< EXCLUDE (...): everything but these (Doris)
};

/// BACKUP [ALL EXTERNAL CATALOGS | EXTERNAL CATALOG(S) (c, ...)] [DATABASE d]
/// SNAPSHOT [db.]label TO repo [{ON | EXCLUDE} (object, ...)] [PROPERTIES (...)]
struct backup_stmt {
    catalog_scope catalogs_scope = catalog_scope::none;
    std::vector<catalog_ref> catalogs;
    std::optional<std::string> database;
    qualified_name label;  ///< `db` set for the old form db.label
    std::string repository;
    object_filter filter = object_filter::none;
    std::vector<backup_object> objects;
    property_list properties;
};

/// RESTORE SNAPSHOT [db.]label FROM repo [ALL EXTERNAL CATALOGS | EXTERNAL CATALOG(S) (c [AS a], ...)]
/// [DATABASE d [AS target]] [{ON | EXCLUDE} (object, ...)] [PROPERTIES (...)]
struct restore_stmt {
    qualified_name label;
    std::string repository;
    catalog_scope catalogs_scope = catalog_scope::none;
    std::vector<catalog_ref> catalogs;
    std::optional<std::string> database;        ///< database name inside the snapshot
    std::optional<std::string> database_alias;  ///< AS target
    object_filter filter = object_filter::none;
    std::vector<backup_object> objects;
    property_list properties;
};

/// SHOW BACKUP [{FROM | IN} db] [WHERE] [ORDER BY] [LIMIT]
struct show_backup_stmt {
    std::optional<std::string> db;
    show_predicate predicate;
};

/// SHOW [BRIEF] RESTORE [{FROM | IN} db] [WHERE] [ORDER BY] [LIMIT]
struct show_restore_stmt {
    bool brief = false;  ///< Doris
    std::optional<std::string> db;
    show_predicate predicate;
};

/// CANCEL BACKUP [{FROM | IN} db | FOR EXTERNAL CATALOG]
struct cancel_backup_stmt {
    std::optional<std::string> db;
    bool external_catalog = false;
};

/// CANCEL RESTORE [{FROM | IN} db | FOR EXTERNAL CATALOG]
struct cancel_restore_stmt {
    std::optional<std::string> db;
    bool external_catalog = false;
};

/// SHOW SNAPSHOT ON repo [WHERE] [ORDER BY] [LIMIT]
struct show_snapshot_stmt {
    std::string repository;
    show_predicate predicate;
};

/// ADMIN VERIFY SNAPSHOT label ON repo [PROPERTIES (...)]
struct verify_snapshot_stmt {
    std::string label;
    std::string repository;
    property_list properties;
};

/// SHOW VERIFY [{FROM | IN} repo] [WHERE] [ORDER BY] [LIMIT]
struct show_verify_stmt {
    std::optional<std::string> repository;
    show_predicate predicate;
};

/// CANCEL VERIFY [{FROM | IN} repo]
struct cancel_verify_stmt {
    std::optional<std::string> repository;
};

/// DROP SNAPSHOT label ON repo [FORCE]  (StarRocks 4.2) or DROP SNAPSHOT ON repo WHERE expr
/// (an upstream variant). Unstable upstream; both parse.
struct drop_snapshot_stmt {
    std::optional<std::string> label;
    std::string repository;
    std::optional<expr> where;
    bool force = false;
};

}  // namespace tv::sql
