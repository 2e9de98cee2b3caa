// SPDX-License-Identifier: Apache-2.0
// SHOW CREATE rendering and DESC rows.
#include "sql/exec/show_create.hh"

#include "io/ascii.hh"
#include "remote/repository_config.hh"

#include <fmt/format.h>

namespace tv::sql {

namespace {

std::string column_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += fmt::format("{}{}", out.empty() ? "" : ", ", quote_identifier(n));
    }
    return out;
}

std::string value_list(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) {
        std::string text = v == storage::max_value ? std::string(storage::max_value) : quote_string(v);
        out += fmt::format("{}{}", out.empty() ? "" : ", ", text);
    }
    return out;
}

/// Every SHOW prints properties through here, so a secret is masked whatever object holds it
/// (a catalog's keys and passwords, a table property someone used for one).
std::string properties_clause(const storage::properties& props) {
    if (props.empty()) {
        return {};
    }
    std::string out = "PROPERTIES (\n";
    for (size_t i = 0; i < props.size(); ++i) {
        std::string_view value = is_secret_property(props[i].first) ? k_masked_value : props[i].second;
        out += fmt::format("{} = {}{}\n", quote_string(props[i].first), quote_string(value),
                           i + 1 < props.size() ? "," : "");
    }
    return out + ")";
}

std::string column_definition(const storage::column& c) {
    std::string out = fmt::format("  {} {}", quote_identifier(c.name), c.type.to_sql());
    if (c.agg != storage::aggregation::none) {
        out += fmt::format(" {}", storage::aggregation_name(c.agg));
    }
    out += c.nullable ? " NULL" : " NOT NULL";
    if (c.default_value) {
        switch (c.default_value->kind) {
        case storage::default_kind::literal: out += " DEFAULT " + quote_string(c.default_value->text); break;
        case storage::default_kind::null: out += " DEFAULT NULL"; break;
        case storage::default_kind::current_timestamp: out += " DEFAULT CURRENT_TIMESTAMP"; break;
        }
    }
    out += " COMMENT " + quote_string(c.comment);
    return out;
}

bool all_min(const std::vector<std::string>& key) {
    for (const auto& v : key) {
        if (v != storage::min_value) {
            return false;
        }
    }
    return !key.empty();
}

std::string partition_clause(const storage::partition_info& info) {
    if (info.kind == storage::partition_kind::none) {
        return {};
    }
    const bool range = info.kind == storage::partition_kind::range;
    std::string out = fmt::format("PARTITION BY {}({})\n(", range ? "RANGE" : "LIST", column_list(info.columns));
    if (info.partitions.empty()) {
        return out + ")";  // every partition dropped: still valid, re-runnable SQL
    }
    const std::vector<std::string>* previous_upper = nullptr;
    for (size_t i = 0; i < info.partitions.size(); ++i) {
        const auto& p = info.partitions[i];
        std::string values;
        if (range) {
            // LESS THAN chains from the previous partition's upper bound (or MINVALUE for the
            // first), so it recreates exactly these bounds; anything else needs [lower, upper).
            bool chained = previous_upper == nullptr ? all_min(p.lower) : p.lower == *previous_upper;
            values = chained ? fmt::format("VALUES LESS THAN ({})", value_list(p.upper))
                             : fmt::format("VALUES [({}), ({}))", value_list(p.lower), value_list(p.upper));
            previous_upper = &p.upper;
        } else {
            std::string tuples;
            for (const auto& tuple : p.values) {
                std::string t = tuple.size() == 1 ? value_list(tuple) : "(" + value_list(tuple) + ")";
                tuples += fmt::format("{}{}", tuples.empty() ? "" : ", ", t);
            }
            values = fmt::format("VALUES IN ({})", tuples);
        }
        out += fmt::format("PARTITION {} {}{}", quote_identifier(p.name), values,
                           i + 1 < info.partitions.size() ? ",\n" : ")");
    }
    return out;
}

std::string distribution_clause(const storage::distribution& d) {
    std::string out = d.random ? "DISTRIBUTED BY RANDOM" : fmt::format("DISTRIBUTED BY HASH({})", column_list(d.columns));
    if (d.buckets > 0) {
        out += fmt::format(" BUCKETS {}", d.buckets);
    }
    return out;
}

}  // namespace

std::string quote_identifier(std::string_view name) {
    std::string out = "`";
    for (char c : name) {
        out += c;
        if (c == '`') {
            out += '`';
        }
    }
    return out + "`";
}

std::string quote_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string show_create_table(const storage::table& t) {
    std::string out = fmt::format("CREATE TABLE {} (\n", quote_identifier(t.name));
    for (size_t i = 0; i < t.columns.size(); ++i) {
        out += column_definition(t.columns[i]) + (i + 1 < t.columns.size() ? ",\n" : "\n");
    }
    out += fmt::format(") ENGINE=OLAP\n{}({})\n", storage::key_model_name(t.keys), column_list(t.key_columns));
    if (!t.comment.empty()) {
        out += fmt::format("COMMENT {}\n", quote_string(t.comment));
    }
    if (auto p = partition_clause(t.partitioning); !p.empty()) {
        out += p + "\n";
    }
    out += distribution_clause(t.dist);
    if (auto props = properties_clause(t.props); !props.empty()) {
        out += "\n" + props;
    }
    return out + ";";
}

std::string show_create_database(const storage::database& d) {
    std::string out = "CREATE DATABASE " + quote_identifier(d.name);
    if (auto props = properties_clause(d.props); !props.empty()) {
        out += "\n" + props;
    }
    return out;
}

std::string show_create_view(const storage::view& v) {
    std::string out = fmt::format("CREATE VIEW {}", quote_identifier(v.name));
    if (!v.columns.empty()) {
        out += " (";
        for (size_t i = 0; i < v.columns.size(); ++i) {
            out += fmt::format("{}{}", i == 0 ? "" : ", ", quote_identifier(v.columns[i].name));
            if (!v.columns[i].comment.empty()) {
                out += " COMMENT " + quote_string(v.columns[i].comment);
            }
        }
        out += ")";
    }
    if (!v.comment.empty()) {
        out += " COMMENT " + quote_string(v.comment);
    }
    return out + " AS " + v.query_text + ";";
}

std::string show_create_materialized_view(const storage::materialized_view& mv) {
    std::string out = fmt::format("CREATE MATERIALIZED VIEW {}", quote_identifier(mv.name));
    if (!mv.comment.empty()) {
        out += "\nCOMMENT " + quote_string(mv.comment);
    }
    if (!mv.partition_expr.empty()) {
        out += "\nPARTITION BY " + mv.partition_expr;
    }
    if (!mv.dist.columns.empty() || mv.dist.random) {
        out += "\n" + distribution_clause(mv.dist);
    }
    out += "\nREFRESH " + mv.refresh.mode;
    if (!mv.refresh.start.empty()) {
        out += " START(" + quote_string(mv.refresh.start) + ")";
    }
    if (!mv.refresh.interval.empty()) {
        out += " EVERY(" + mv.refresh.interval + ")";
    }
    if (auto props = properties_clause(mv.props); !props.empty()) {
        out += "\n" + props;
    }
    return out + "\nAS " + mv.query_text + ";";
}

bool is_secret_property(std::string_view key) {
    std::string k = ascii_lower(key);
    for (std::string_view word : {"secret", "key", "password", "pwd", "token", "credential"}) {
        if (k.find(word) != std::string::npos) {
            return true;
        }
    }
    // Repository settings that are secret under other names (aws.s3.external_id).
    return remote::is_secret_property(key);
}

std::string show_create_catalog(const storage::external_catalog& c) {
    std::string out = fmt::format("CREATE EXTERNAL CATALOG {}", quote_identifier(c.name));
    if (!c.comment.empty()) {
        out += "\nCOMMENT " + quote_string(c.comment);
    }
    // Credentials are kept (a restore needs them) but never shown: properties_clause masks them.
    return out + "\n" + properties_clause(c.props) + ";";
}

std::string desc_type(const storage::column_type& type) {
    std::string out;
    for (char ch : type.to_sql()) {
        if (ch != ' ') {
            out += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
    }
    return out;
}

result_set describe_table(const storage::table& t) {
    result_set rs;
    for (const char* name : {"Field", "Type", "Null", "Key", "Default", "Extra"}) {
        rs.columns.push_back({name, column_kind::varchar});
    }
    for (const auto& c : t.columns) {
        cell default_cell;
        if (c.default_value) {
            switch (c.default_value->kind) {
            case storage::default_kind::literal: default_cell = c.default_value->text; break;
            case storage::default_kind::null: break;
            case storage::default_kind::current_timestamp: default_cell = "CURRENT_TIMESTAMP"; break;
            }
        }
        rs.rows.push_back({c.name, desc_type(c.type), c.nullable ? "YES" : "NO", c.is_key ? "true" : "false",
                           default_cell, std::string(storage::aggregation_name(c.agg))});
    }
    return rs;
}

}  // namespace tv::sql
