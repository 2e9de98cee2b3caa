// SPDX-License-Identifier: Apache-2.0
// Repositories, BACKUP, RESTORE, SHOW BACKUP / RESTORE / SNAPSHOT, CANCEL, DROP SNAPSHOT:
// StarRocks old and v3.4 forms plus the Doris ones (reference/starrocks-backup-spec.md §1, §8).
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

statement parser::parse_create_repository(bool read_only) {
    // After CREATE [READ ONLY] REPOSITORY
    create_repository_stmt create;
    create.read_only = read_only;
    create.name = parse_identifier();
    expect_keyword("WITH");
    if (accept_keyword("BROKER")) {
        create.kind = repository_kind::broker;
        if (is_identifier()) {  // no name: brokerless
            create.broker_name = advance().value;
        }
    } else if (accept_keyword("S3")) {
        create.kind = repository_kind::s3;
    } else if (accept_keyword("HDFS")) {
        create.kind = repository_kind::hdfs;
    } else {
        fail();
    }
    expect_keyword("ON");
    expect_keyword("LOCATION");
    create.location = parse_string();
    create.properties = parse_optional_properties();
    return create;
}

statement parser::parse_alter_repository() {
    alter_repository_stmt alter;
    alter.name = parse_identifier();
    expect_keyword("PROPERTIES");
    alter.properties = parse_property_body();
    return alter;
}

statement parser::parse_drop_repository() {
    return drop_repository_stmt{parse_identifier()};
}

void parser::parse_catalog_clause(catalog_scope& scope, std::vector<catalog_ref>& catalogs) {
    // [ALL EXTERNAL CATALOGS | EXTERNAL CATALOG(S) (c [AS a], ...)]
    if (accept_keyword("ALL")) {
        expect_keyword("EXTERNAL");
        expect_keyword("CATALOGS");
        scope = catalog_scope::all;
        return;
    }
    if (!accept_keyword("EXTERNAL")) {
        return;
    }
    if (!accept_keyword("CATALOG")) {
        expect_keyword("CATALOGS");
    }
    scope = catalog_scope::listed;
    expect_symbol("(");
    do {
        catalog_ref ref;
        ref.name = parse_identifier();
        if (accept_keyword("AS")) {
            ref.alias = parse_identifier();
        }
        catalogs.push_back(std::move(ref));
    } while (accept_symbol(","));
    expect_symbol(")");
}

void parser::parse_object_filter(object_filter& filter, std::vector<backup_object>& objects) {
    if (accept_keyword("ON")) {
        filter = object_filter::on;
    } else if (accept_keyword("EXCLUDE")) {
        filter = object_filter::exclude;
    } else {
        return;
    }
    expect_symbol("(");
    do {
        objects.push_back(parse_backup_object());
    } while (accept_symbol(","));
    expect_symbol(")");
}

backup_object parser::parse_backup_object() {
    backup_object object;
    // An object-type word followed by what ends a bare name is itself the (old-form) table
    // name: ON (views) backs up a table called `views`.
    bool all = accept_keyword("ALL");
    auto type_word = [this, all](std::string_view upper) {
        if (!at_keyword(upper)) {
            return false;
        }
        bool ends_name = is_symbol(",", 1) || is_symbol(")", 1) || is_symbol(".", 1) ||
                         is_keyword("PARTITION", 1) || is_keyword("AS", 1);
        return all || !(ends_name && is_identifier());
    };
    bool takes_partitions = false;
    if (type_word("TABLE") || type_word("TABLES")) {
        object.kind = backup_object_kind::table;
        takes_partitions = true;
    } else if (type_word("MATERIALIZED")) {
        advance();
        if (!at_keyword("VIEW") && !at_keyword("VIEWS")) {
            fail();
        }
        object.kind = backup_object_kind::materialized_view;
    } else if (type_word("VIEW") || type_word("VIEWS")) {
        object.kind = backup_object_kind::view;
    } else if (type_word("FUNCTION") || type_word("FUNCTIONS")) {
        object.kind = backup_object_kind::function;
    } else if (all) {
        fail();
    } else {
        object.bare = true;
        object.kind = backup_object_kind::table;
        takes_partitions = true;
    }
    if (!object.bare) {
        advance();  // the type word (VIEW / VIEWS after MATERIALIZED)
    }
    if (all) {
        object.all = true;
        return object;
    }
    object.name = parse_qualified_name();
    if (takes_partitions && (accept_keyword("PARTITION") || accept_keyword("PARTITIONS"))) {
        object.partitions = parse_partition_names();
    }
    if (accept_keyword("AS")) {
        object.alias = parse_identifier();
    }
    return object;
}

statement parser::parse_backup() {
    expect_keyword("BACKUP");
    backup_stmt backup;
    parse_catalog_clause(backup.catalogs_scope, backup.catalogs);
    if (accept_keyword("DATABASE")) {
        backup.database = parse_identifier();
    }
    expect_keyword("SNAPSHOT");
    backup.label = parse_qualified_name();
    expect_keyword("TO");
    backup.repository = parse_identifier();
    parse_object_filter(backup.filter, backup.objects);
    backup.properties = parse_optional_properties();
    return backup;
}

statement parser::parse_restore() {
    expect_keyword("RESTORE");
    restore_stmt restore;
    expect_keyword("SNAPSHOT");
    restore.label = parse_qualified_name();
    expect_keyword("FROM");
    restore.repository = parse_identifier();
    parse_catalog_clause(restore.catalogs_scope, restore.catalogs);
    if (accept_keyword("DATABASE")) {
        restore.database = parse_identifier();
        if (accept_keyword("AS")) {
            restore.database_alias = parse_identifier();
        }
    }
    parse_object_filter(restore.filter, restore.objects);
    restore.properties = parse_optional_properties();
    return restore;
}

statement parser::parse_show_backup() {
    // After SHOW BACKUP
    show_backup_stmt show;
    if (accept_keyword("FROM") || accept_keyword("IN")) {
        show.db = parse_identifier();
    }
    show.predicate = parse_show_predicate();
    return show;
}

statement parser::parse_show_restore(bool brief) {
    // After SHOW [BRIEF] RESTORE
    show_restore_stmt show;
    show.brief = brief;
    if (accept_keyword("FROM") || accept_keyword("IN")) {
        show.db = parse_identifier();
    }
    show.predicate = parse_show_predicate();
    return show;
}

statement parser::parse_show_snapshot() {
    // After SHOW SNAPSHOT
    show_snapshot_stmt show;
    expect_keyword("ON");
    show.repository = parse_identifier();
    show.predicate = parse_show_predicate();
    return show;
}

statement parser::parse_cancel() {
    expect_keyword("CANCEL");
    if (accept_keyword("VERIFY")) {
        cancel_verify_stmt cancel;
        if (accept_keyword("FROM") || accept_keyword("IN")) {
            cancel.repository = parse_identifier();
        }
        return cancel;
    }
    bool backup = accept_keyword("BACKUP");
    if (!backup) {
        expect_keyword("RESTORE");
    }
    std::optional<std::string> db;
    bool external_catalog = false;
    if (accept_keyword("FROM") || accept_keyword("IN")) {
        db = parse_identifier();
    } else if (accept_keyword("FOR")) {
        expect_keyword("EXTERNAL");
        expect_keyword("CATALOG");
        external_catalog = true;
    }
    if (backup) {
        return cancel_backup_stmt{std::move(db), external_catalog};
    }
    return cancel_restore_stmt{std::move(db), external_catalog};
}

statement parser::parse_drop_snapshot() {
    // After DROP SNAPSHOT: `label ON repo [FORCE]` or `ON repo WHERE ...`
    drop_snapshot_stmt drop;
    if (!at_keyword("ON")) {
        drop.label = parse_identifier();
    }
    expect_keyword("ON");
    drop.repository = parse_identifier();
    if (accept_keyword("WHERE")) {
        drop.where = parse_expression();
    }
    drop.force = accept_keyword("FORCE");
    if (!drop.label && !drop.where) {
        fail();  // nothing says which snapshots
    }
    return drop;
}

}  // namespace tv::sql::detail
