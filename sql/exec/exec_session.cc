// SPDX-License-Identifier: Apache-2.0
// Session and utility statements: USE, SET, SET NAMES, transactions (autocommit only), SHOW
// VARIABLES, SELECT without FROM, ADMIN SET/SHOW FRONTEND CONFIG, SHOW WARNINGS;
// and the LIKE / WHERE / ORDER BY / LIMIT handling every SHOW shares.
#include "io/ascii.hh"
#include "sql/expression/const_eval.hh"
#include "sql/exec/executor.hh"
#include "sql/expression/like.hh"
#include "sql/privileges.hh"
#include "sql/query/query.hh"
#include "sql/variables.hh"
#include "storage/catalog.hh"

#include <fmt/chrono.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace tv::sql {

namespace {

statement_result run_use(exec_context& ctx, const use_stmt& u) {
    if (!u.catalog.empty() && u.catalog != "default_catalog") {
        return not_supported("USE of an external catalog");
    }
    if (ctx.catalog.find_database(u.db) == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", u.db);
    }
    ctx.s.current_db = u.db;
    return ok_result{};
}

statement_result run_set(exec_context& ctx, const set_stmt& set) {
    // Check everything first so that a bad assignment changes nothing.
    std::vector<std::pair<std::string, std::string>> system_changes;
    std::vector<std::pair<std::string, std::optional<std::string>>> user_changes;
    for (const auto& v : set.variables) {
        cell evaluated;
        if (v.value) {
            auto r = evaluate_constant(*v.value, ctx.s);
            if (!r) {
                return r.error();
            }
            evaluated = r->text();
        }
        if (v.scope == variable_scope::user) {
            user_changes.emplace_back(ascii_lower(v.name), evaluated);
            continue;
        }
        std::string value = evaluated.value_or("");
        const system_variable* known = find_system_variable(v.name);
        if (known == nullptr) {
            return make_error(errc::unknown_system_variable, "Unknown system variable '{}'", v.name);
        }
        if (known->read_only) {
            return make_error(errc::read_only_variable, "Variable '{}' is a read only variable", known->name);
        }
        if (v.scope == variable_scope::global) {
            return not_supported("SET GLOBAL");
        }
        if (!v.value) {
            value = std::string(known->default_value);
        }
        if (known->name == "autocommit") {
            // Accepted either way, as StarRocks does, because connectors set it on connect;
            // every statement still commits on its own (docs/sql/session.md says so).
            std::string l = ascii_lower(value);
            if (l == "1" || l == "on" || l == "true") {
                value = "1";
            } else if (l == "0" || l == "off" || l == "false") {
                value = "0";
            } else {
                return make_error(errc::wrong_value_for_var, "Variable 'autocommit' can't be set to the value of '{}'",
                                  value);
            }
        }
        system_changes.emplace_back(std::string(known->name), value);
    }
    for (auto& [k, v] : system_changes) {
        ctx.s.variables[k] = v;
    }
    for (auto& [k, v] : user_changes) {
        ctx.s.user_variables[k] = v;
    }
    return ok_result{};
}

statement_result run_set_names(exec_context& ctx, const set_names_stmt& n) {
    std::string charset = n.charset.empty() ? "utf8mb4" : ascii_lower(n.charset);
    if (charset != "utf8mb4" && charset != "utf8" && charset != "utf8mb3" && charset != "binary" &&
        charset != "latin1" && charset != "ascii") {
        return make_error(errc::unknown, "Unknown character set: '{}'", n.charset);
    }
    for (const char* v : {"character_set_client", "character_set_connection", "character_set_results"}) {
        ctx.s.variables[v] = charset;
    }
    if (n.collation) {
        ctx.s.variables["collation_connection"] = ascii_lower(*n.collation);
    }
    return ok_result{};
}

statement_result run_show_variables(exec_context& ctx, const show_variables_stmt& show) {
    result_set rs = make_result({"Variable_name", "Value"});
    for (const auto& v : system_variables()) {
        std::string value = show.scope == variable_scope::global ? std::string(v.default_value)
                                                                 : *variable_value(ctx.s, v.name);
        rs.rows.push_back({std::string(v.name), value});
    }
    if (auto filtered = apply_show_filter(ctx, show.filter, rs, like_case::insensitive); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result run_select(exec_context& ctx, const select_stmt& select) {
    if (select.from) {
        return not_supported("SELECT from tables");
    }
    if (!select.group_by.empty() || select.having || !select.order_by.empty()) {
        return not_supported("GROUP BY, HAVING and ORDER BY without FROM");
    }
    result_set rs;
    row values;
    for (const auto& item : select.items) {
        if (item.star) {
            return make_error(errc::unknown, "No tables used");
        }
        auto r = evaluate_constant(*item.value, ctx.s);
        if (!r) {
            return r.error();
        }
        rs.columns.push_back(column_meta_of({item.alias.value_or(item.text), r->type, r->nullable}));
        values.push_back(r->text());
    }
    bool keep = true;
    if (select.where) {
        auto r = constant_condition(*select.where, ctx.s);
        if (!r) {
            return r.error();
        }
        keep = *r;
    }
    if (select.limit && (select.limit->count == 0 || select.limit->offset > 0)) {
        keep = false;
    }
    if (keep) {
        rs.rows.push_back(std::move(values));
    }
    return rs;
}

statement_result run_admin_show_config(exec_context& ctx, const admin_show_config_stmt& show) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "ADMIN SHOW FRONTEND CONFIG"); !allowed) {
        return allowed.error();
    }
    result_set rs = make_result({"Key", "AliasNames", "Value", "Type", "IsMutable", "Comment"});
    if (!ctx.options.list_config) {
        return rs;
    }
    for (const auto& entry : ctx.options.list_config()) {
        if (!show.like || like_match(entry.key, *show.like, true)) {
            rs.rows.push_back({entry.key, "[]", entry.value, entry.type, entry.is_mutable ? "true" : "false",
                               entry.comment});
        }
    }
    return rs;
}

statement_result run_admin_set_config(exec_context& ctx, const admin_set_config_stmt& set) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "ADMIN SET FRONTEND CONFIG"); !allowed) {
        return allowed.error();
    }
    if (!ctx.options.set_config) {
        return not_supported("ADMIN SET FRONTEND CONFIG");
    }
    if (auto error = ctx.options.set_config(set.config)) {
        return make_error(errc::unknown, "{}", *error);
    }
    return ok_result{};
}

/// The rows where a SHOW's WHERE is TRUE. The result's columns are text columns of a table
/// the condition is compiled over, as a query over a table is, and evaluated over every row
/// at once.
sql_result<std::vector<uint32_t>> rows_where(const exec_context& ctx, const expr& where, const result_set& rs) {
    std::vector<storage::column_desc> schema;
    std::vector<storage::column_vector> columns;
    for (size_t c = 0; c < rs.columns.size(); ++c) {
        schema.push_back({rs.columns[c].name, varchar_type(), true});
        storage::column_vector column(storage::physical_type::bytes, true);
        for (const auto& r : rs.rows) {
            if (r[c]) {
                column.append(storage::cell{std::string_view(*r[c])});
            } else {
                column.append_null();
            }
        }
        columns.push_back(std::move(column));
    }
    schema_scope scope(schema, "", "where clause", ctx.s);
    auto compiled = compile(where, scope);
    if (!compiled) {
        return compiled.error();
    }
    auto condition = convert(std::move(*compiled), storage::column_type{storage::type_kind::boolean});
    if (!condition) {
        return condition.error();
    }
    const size_t n = rs.rows.size();
    storage::column_batch rows(std::move(schema), std::move(columns));
    auto v = (*condition)->eval(rows);
    if (!v) {
        return v.error();
    }
    return true_rows(*v, n);
}

std::optional<int64_t> as_number(const cell& c) {
    if (!c) {
        return std::nullopt;
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(c->data(), c->data() + c->size(), v);
    if (ec != std::errc{} || end != c->data() + c->size()) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

result_set make_result(std::initializer_list<const char*> columns) {
    result_set rs;
    for (const char* c : columns) {
        rs.columns.push_back({c, column_kind::varchar});
    }
    return rs;
}

result_set one_row(std::initializer_list<const char*> columns, row values) {
    result_set rs = make_result(columns);
    rs.rows.push_back(std::move(values));
    return rs;
}

sql_result<int> written_buckets(const std::optional<int64_t>& buckets) {
    if (!buckets) {
        return 0;
    }
    if (*buckets < 1 || *buckets > storage::max_buckets) {
        return make_error(errc::parse, "Number of buckets should be between 1 and {}, got {}", storage::max_buckets,
                          *buckets);
    }
    return static_cast<int>(*buckets);
}

sql_result<void> apply_show_filter(const exec_context& ctx, const show_filter& filter, result_set& rs,
                                   like_case names) {
    if (filter.like) {
        std::erase_if(rs.rows, [&](const row& r) {
            return !like_match(r[0].value_or(""), *filter.like, names == like_case::insensitive);
        });
    }
    if (!filter.where) {
        return {};
    }
    auto kept = rows_where(ctx, *filter.where, rs);
    if (!kept) {
        return kept.error();
    }
    std::vector<row> rows;
    rows.reserve(kept->size());
    for (uint32_t i : *kept) {
        rows.push_back(std::move(rs.rows[i]));
    }
    rs.rows = std::move(rows);
    return {};
}

std::optional<statement_result> execute_session_statement(exec_context& ctx, const statement& stmt) {
    return std::visit(
        overloaded{
            [&](const use_stmt& u) -> std::optional<statement_result> { return run_use(ctx, u); },
            [&](const set_stmt& s) -> std::optional<statement_result> { return run_set(ctx, s); },
            [&](const set_names_stmt& s) -> std::optional<statement_result> { return run_set_names(ctx, s); },
            [&](const transaction_stmt&) -> std::optional<statement_result> {
                return ok_result{};  // every statement commits on its own; BEGIN/COMMIT are accepted no-ops
            },
            [&](const show_variables_stmt& s) -> std::optional<statement_result> {
                return run_show_variables(ctx, s);
            },
            [&](const select_stmt& s) -> std::optional<statement_result> {
                if (s.from) {
                    return std::nullopt;  // over table data: exec_data.cc
                }
                return run_select(ctx, s);
            },
            [&](const show_warnings_stmt&) -> std::optional<statement_result> {
                return make_result({"Level", "Code", "Message"});
            },
            [&](const show_broker_stmt&) -> std::optional<statement_result> {
                return make_result({"Name", "IP", "Port", "Alive", "LastStartTime", "LastUpdateTime", "ErrMsg"});
            },
            [&](const admin_show_config_stmt& s) -> std::optional<statement_result> {
                return run_admin_show_config(ctx, s);
            },
            [&](const admin_set_config_stmt& s) -> std::optional<statement_result> {
                return run_admin_set_config(ctx, s);
            },
            [](const auto&) -> std::optional<statement_result> { return std::nullopt; },
        },
        stmt);
}

/// WHERE, ORDER BY (result column names; numbers compare as numbers) and LIMIT of a SHOW.
sql_result<void> apply_show_predicate(const exec_context& ctx, const show_predicate& p, result_set& rs) {
    show_filter filter;
    filter.where = p.where;
    if (auto filtered = apply_show_filter(ctx, filter, rs); !filtered) {
        return filtered.error();
    }
    if (!p.order_by.empty()) {
        std::vector<std::pair<size_t, bool>> keys;
        for (const auto& item : p.order_by) {
            const auto* ref = item.value.as<column_ref>();
            size_t i = 0;
            while (ref != nullptr && i < rs.columns.size() &&
                   ascii_lower(rs.columns[i].name) != ascii_lower(ref->column)) {
                ++i;
            }
            if (ref == nullptr || i == rs.columns.size()) {
                return make_error(errc::bad_field, "Unknown column '{}' in 'order clause'", to_sql(item.value));
            }
            keys.emplace_back(i, item.descending);
        }
        std::stable_sort(rs.rows.begin(), rs.rows.end(), [&](const row& a, const row& b) {
            for (auto [i, descending] : keys) {
                auto na = as_number(a[i]);
                auto nb = as_number(b[i]);
                int order = 0;
                if (na && nb) {
                    order = *na < *nb ? -1 : (*na > *nb ? 1 : 0);
                } else {
                    order = a[i].value_or("").compare(b[i].value_or(""));
                    order = order < 0 ? -1 : (order > 0 ? 1 : 0);
                }
                if (order != 0) {
                    return descending ? order > 0 : order < 0;
                }
            }
            return false;
        });
    }
    if (p.limit) {
        size_t offset = std::min<uint64_t>(p.limit->offset, rs.rows.size());
        size_t count = std::min<uint64_t>(p.limit->count, rs.rows.size() - offset);
        rs.rows = std::vector<row>(rs.rows.begin() + offset, rs.rows.begin() + offset + count);
    }
    return {};
}

std::string datetime_text(int64_t unix_ms) {
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms));
    return fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace tv::sql
