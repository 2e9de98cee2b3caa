// SPDX-License-Identifier: Apache-2.0
// information_schema outside SELECT: USE, SHOW TABLES and DESC / SHOW COLUMNS over its tables,
// and the refusal of every change in it (1044, as StarRocks and MySQL answer), checked once
// here before any handler runs rather than in each of them.
#include "io/ascii.hh"
#include "sql/exec/executor.hh"
#include "sql/query/information_schema.hh"

namespace tv::sql {

namespace {

/// Statements that name a table but only read it: everything else naming information_schema
/// would change it.
template <class S>
constexpr bool reads_only = std::is_same_v<S, select_stmt> || std::is_same_v<S, describe_stmt> ||
                            std::is_same_v<S, show_columns_stmt> || std::is_same_v<S, show_create_stmt> ||
                            std::is_same_v<S, show_partitions_stmt> || std::is_same_v<S, show_tablet_stmt> ||
                            std::is_same_v<S, checksum_table_stmt>;

bool names_information_schema(const exec_context& ctx, const qualified_name& name) {
    return is_information_schema(name.db.empty() ? ctx.s.current_db : name.db);
}

/// Whether `stmt` would create, change or drop something in information_schema. Statement
/// kinds are recognised by their target's field (`name` or `table`, a qualified name), so a
/// new kind of change is covered without being listed here.
bool changes_information_schema(const exec_context& ctx, const statement& stmt) {
    return std::visit(
        [&](const auto& s) {
            using S = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<S, create_database_stmt> || std::is_same_v<S, drop_database_stmt>) {
                return is_information_schema(s.name);
            } else if constexpr (std::is_same_v<S, alter_database_stmt>) {
                // Its name's `db` part is the catalog: renaming from or to information_schema.
                return is_information_schema(s.name.name) || is_information_schema(s.new_name);
            } else if constexpr (reads_only<S>) {
                return false;
            } else if constexpr (requires { s.name.db; s.name.name; }) {
                return names_information_schema(ctx, s.name);
            } else if constexpr (requires { s.table.db; s.table.name; }) {
                return names_information_schema(ctx, s.table);
            } else if constexpr (requires { s.database; s.label; s.repository; }) {
                // RESTORE ... DATABASE information_schema (or AS it) would write there.
                if constexpr (requires { s.database_alias; }) {
                    const auto& target = s.database_alias ? s.database_alias : s.database;
                    return target.has_value() && is_information_schema(*target);
                }
                return false;
            } else {
                return false;
            }
        },
        stmt);
}

/// DESC / SHOW COLUMNS of an information_schema table, in DESC's columns.
statement_result describe(const exec_context& ctx, const qualified_name& name, const show_filter* filter) {
    auto schema = information_schema_schema(name.name);
    if (!schema) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", information_schema_name, name.name);
    }
    result_set rs = make_result({"Field", "Type", "Null", "Key", "Default", "Extra"});
    for (const auto& c : *schema) {
        std::string type = c.type.kind == storage::type_kind::varchar ? fmt::format("varchar({})", c.type.length)
                                                                       : ascii_lower(c.type.to_sql());
        rs.rows.push_back({c.name, type, "YES", "false", cell{}, ""});
    }
    if (filter != nullptr) {
        if (auto filtered = apply_show_filter(ctx, *filter, rs); !filtered) {
            return filtered.error();
        }
    }
    return rs;
}

}  // namespace

std::optional<statement_result> execute_information_schema_statement(exec_context& ctx, const statement& stmt) {
    if (changes_information_schema(ctx, stmt)) {
        return information_schema_denied(ctx);
    }
    if (const auto* s = std::get_if<use_stmt>(&stmt); s != nullptr && is_information_schema(s->db)) {
        if (!s->catalog.empty() && s->catalog != "default_catalog") {
            return std::nullopt;
        }
        ctx.s.current_db = std::string(information_schema_name);
        return ok_result{};
    }
    if (const auto* s = std::get_if<show_tables_stmt>(&stmt)) {
        if (!is_information_schema(s->db.empty() ? ctx.s.current_db : s->db)) {
            return std::nullopt;
        }
        std::string column = "Tables_in_" + std::string(information_schema_name);
        result_set rs = s->full ? make_result({column.c_str(), "Table_type"}) : make_result({column.c_str()});
        for (const auto& name : information_schema_tables()) {
            rs.rows.push_back(s->full ? row{name, "SYSTEM VIEW"} : row{name});
        }
        if (auto filtered = apply_show_filter(ctx, s->filter, rs); !filtered) {
            return filtered.error();
        }
        return rs;
    }
    // Statements about a table's storage or definition: its tables have neither.
    if (const auto* s = std::get_if<show_create_stmt>(&stmt);
        s != nullptr && (s->kind == show_create_kind::table || s->kind == show_create_kind::view) &&
        names_information_schema(ctx, s->name)) {
        return not_supported("SHOW CREATE TABLE of an information_schema table");
    }
    if (const auto* s = std::get_if<show_partitions_stmt>(&stmt); s != nullptr && names_information_schema(ctx, s->table)) {
        return not_supported("SHOW PARTITIONS of an information_schema table");
    }
    if (const auto* s = std::get_if<show_tablet_stmt>(&stmt);
        s != nullptr && !s->tablet_id && names_information_schema(ctx, s->table)) {
        return not_supported("SHOW TABLET of an information_schema table");
    }
    if (const auto* s = std::get_if<checksum_table_stmt>(&stmt)) {
        for (const auto& name : s->tables) {
            if (names_information_schema(ctx, name)) {
                return not_supported("CHECKSUM TABLE of an information_schema table");
            }
        }
    }
    if (const auto* s = std::get_if<describe_stmt>(&stmt); s != nullptr && names_information_schema(ctx, s->table)) {
        return describe(ctx, s->table, nullptr);
    }
    if (const auto* s = std::get_if<show_columns_stmt>(&stmt);
        s != nullptr && names_information_schema(ctx, s->table)) {
        return describe(ctx, s->table, &s->filter);
    }
    return std::nullopt;
}

}  // namespace tv::sql
