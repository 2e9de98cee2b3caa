// SPDX-License-Identifier: Apache-2.0
// SHOW statements (the backup family is in parser_backup.cc).
#include "sql/parser/parser_detail.hh"

namespace tv::sql::detail {

statement parser::parse_show() {
    expect_keyword("SHOW");
    if (at_keyword("CREATE")) {
        return parse_show_create();
    }
    bool full = accept_keyword("FULL");
    if (accept_keyword("TABLES")) {
        show_tables_stmt show;
        show.full = full;
        if (accept_keyword("FROM") || accept_keyword("IN")) {
            show.db = parse_identifier();
        }
        show.filter = parse_show_filter();
        return show;
    }
    if (accept_keyword("COLUMNS") || accept_keyword("FIELDS")) {
        show_columns_stmt show;
        show.full = full;
        if (!accept_keyword("FROM")) {
            expect_keyword("IN");
        }
        show.table = parse_qualified_name();
        if (accept_keyword("FROM") || accept_keyword("IN")) {
            show.table.db = parse_identifier();
        }
        show.filter = parse_show_filter();
        return show;
    }
    if (accept_keyword("PROCESSLIST")) {
        return show_processlist_stmt{full};
    }
    if (at_keyword("FUNCTIONS") || at_keyword("BUILTIN") || (at_keyword("GLOBAL") && is_keyword("FUNCTIONS", 1))) {
        return parse_show_functions(full);
    }
    if (full) {
        fail();
    }
    if (at_keyword("GLOBAL") || at_keyword("SESSION") || at_keyword("LOCAL") || at_keyword("VARIABLES")) {
        show_variables_stmt show;
        if (accept_keyword("GLOBAL")) {
            show.scope = variable_scope::global;
        } else if (accept_keyword("SESSION") || accept_keyword("LOCAL")) {
            show.scope = variable_scope::session;
        }
        expect_keyword("VARIABLES");
        show.filter = parse_show_filter();
        return show;
    }
    if (accept_keyword("DATABASES") || accept_keyword("SCHEMAS")) {
        show_databases_stmt show;
        if (accept_keyword("FROM") || accept_keyword("IN")) {
            show.catalog = parse_identifier();
        }
        show.filter = parse_show_filter();
        return show;
    }
    if (at_keyword("PARTITIONS") || at_keyword("TEMPORARY")) {
        show_partitions_stmt show;
        show.temporary = accept_keyword("TEMPORARY");
        expect_keyword("PARTITIONS");
        expect_keyword("FROM");
        show.table = parse_qualified_name();
        show.predicate = parse_show_predicate();
        return show;
    }
    if (accept_keyword("TABLET") || accept_keyword("TABLETS")) {
        show_tablet_stmt show;
        if (peek().kind == token_kind::integer) {
            show.tablet_id = parse_int64();
            return show;
        }
        note("an integer");
        expect_keyword("FROM");
        show.table = parse_qualified_name();
        if (accept_keyword("PARTITION") || accept_keyword("PARTITIONS")) {
            show.partitions = parse_partition_names();
        }
        show.predicate = parse_show_predicate();
        return show;
    }
    if (at_keyword("GRANTS") || at_keyword("ALL")) {
        show_grants_stmt show;
        show.all = accept_keyword("ALL");
        expect_keyword("GRANTS");
        if (!show.all && accept_keyword("FOR")) {
            if (accept_keyword("ROLE")) {
                show.role = parse_identifier_or_string();
            } else {
                show.user = parse_user_identity();
            }
        }
        return show;
    }
    if (accept_keyword("FRONTENDS")) {
        return show_proc_stmt{"/frontends", false};
    }
    if (accept_keyword("BACKENDS")) {
        return show_proc_stmt{"/backends", false};
    }
    if (accept_keyword("PROC")) {
        return show_proc_stmt{parse_string(), true};
    }
    if (accept_keyword("CATALOGS")) {
        return show_catalogs_stmt{};
    }
    if (accept_keyword("BROKER")) {
        return show_broker_stmt{};
    }
    if (at_keyword("WARNINGS") || at_keyword("ERRORS")) {
        show_warnings_stmt show;
        show.errors = advance().is_keyword("ERRORS");
        if (accept_keyword("LIMIT")) {
            show.limit = parse_limit_values();
        }
        return show;
    }
    if (accept_keyword("MATERIALIZED")) {
        expect_keyword("VIEWS");
        show_materialized_views_stmt show;
        if (accept_keyword("FROM") || accept_keyword("IN")) {
            show.db = parse_identifier();
        }
        show.filter = parse_show_filter();
        return show;
    }
    if (accept_keyword("REPOSITORIES")) {
        return show_repositories_stmt{parse_show_predicate()};
    }
    if (accept_keyword("BACKUP")) {
        return parse_show_backup();
    }
    if (accept_keyword("BRIEF")) {
        expect_keyword("RESTORE");
        return parse_show_restore(true);
    }
    if (accept_keyword("RESTORE")) {
        return parse_show_restore(false);
    }
    if (accept_keyword("SNAPSHOT")) {
        return parse_show_snapshot();
    }
    if (accept_keyword("VERIFY")) {
        show_verify_stmt show;
        if (accept_keyword("FROM") || accept_keyword("IN")) {
            show.repository = parse_identifier();
        }
        show.predicate = parse_show_predicate();
        return show;
    }
    fail();
}

statement parser::parse_show_functions(bool full) {
    show_functions_stmt show;
    show.full = full;
    if (accept_keyword("GLOBAL")) {
        show.global = true;
    } else if (accept_keyword("BUILTIN")) {
        show.builtin = true;
    }
    expect_keyword("FUNCTIONS");
    if (accept_keyword("FROM") || accept_keyword("IN")) {
        show.db = parse_identifier();
    }
    show.filter = parse_show_filter();
    return show;
}

statement parser::parse_show_create() {
    expect_keyword("CREATE");
    show_create_stmt show;
    if (accept_keyword("TABLE")) {
        show.kind = show_create_kind::table;
    } else if (accept_keyword("VIEW")) {
        show.kind = show_create_kind::view;
    } else if (accept_keyword("MATERIALIZED")) {
        expect_keyword("VIEW");
        show.kind = show_create_kind::materialized_view;
    } else if (accept_keyword("DATABASE") || accept_keyword("SCHEMA")) {
        show.kind = show_create_kind::database;
        show.name.name = parse_identifier();
        return show;
    } else if (accept_keyword("CATALOG")) {
        show.kind = show_create_kind::catalog;
        show.name.name = parse_identifier();
        return show;
    } else if (accept_keyword("REPOSITORY")) {
        show.kind = show_create_kind::repository;
        show.name.name = parse_identifier();
        return show;
    } else {
        fail();
    }
    show.name = parse_qualified_name();
    return show;
}

}  // namespace tv::sql::detail
