// SPDX-License-Identifier: Apache-2.0
// Column types by name and back, and the small helpers of the catalog model.
#include "storage/catalog_types.hh"

#include "io/ascii.hh"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace tv::storage {

namespace {

struct type_name {
    std::string_view name;
    type_kind kind;
    int decimal_max_precision;  // DECIMAL32/64/128 narrow the precision range
};

// Accepted spellings: StarRocks' own plus the MySQL synonyms clients send.
constexpr std::array type_names{
    type_name{"BOOLEAN", type_kind::boolean, 0},   type_name{"BOOL", type_kind::boolean, 0},
    type_name{"TINYINT", type_kind::tinyint, 0},   type_name{"SMALLINT", type_kind::smallint, 0},
    type_name{"INT", type_kind::int_, 0},          type_name{"INTEGER", type_kind::int_, 0},
    type_name{"BIGINT", type_kind::bigint, 0},     type_name{"LARGEINT", type_kind::largeint, 0},
    type_name{"FLOAT", type_kind::float_, 0},      type_name{"DOUBLE", type_kind::double_, 0},
    type_name{"DECIMAL", type_kind::decimal, 38},  type_name{"DECIMALV2", type_kind::decimal, 27},
    type_name{"DECIMALV3", type_kind::decimal, 38}, type_name{"NUMERIC", type_kind::decimal, 38},
    type_name{"DECIMAL32", type_kind::decimal, 9}, type_name{"DECIMAL64", type_kind::decimal, 18},
    type_name{"DECIMAL128", type_kind::decimal, 38}, type_name{"DATE", type_kind::date, 0},
    type_name{"DATEV2", type_kind::date, 0},       type_name{"DATETIME", type_kind::datetime, 0},
    type_name{"DATETIMEV2", type_kind::datetime, 0}, type_name{"CHAR", type_kind::char_, 0},
    type_name{"VARCHAR", type_kind::varchar, 0},   type_name{"STRING", type_kind::string, 0},
    type_name{"TEXT", type_kind::string, 0},       type_name{"JSON", type_kind::json, 0},
};

constexpr int max_char_length = 255;
constexpr int max_varchar_length = 1048576;
constexpr int default_decimal_precision = 10;  // DECIMAL with no parameters, as MySQL

std::string_view canonical_name(type_kind k) {
    switch (k) {
    case type_kind::boolean: return "BOOLEAN";
    case type_kind::tinyint: return "TINYINT";
    case type_kind::smallint: return "SMALLINT";
    case type_kind::int_: return "INT";
    case type_kind::bigint: return "BIGINT";
    case type_kind::largeint: return "LARGEINT";
    case type_kind::float_: return "FLOAT";
    case type_kind::double_: return "DOUBLE";
    case type_kind::decimal: return "DECIMAL";
    case type_kind::date: return "DATE";
    case type_kind::datetime: return "DATETIME";
    case type_kind::char_: return "CHAR";
    case type_kind::varchar: return "VARCHAR";
    case type_kind::string: return "STRING";
    case type_kind::json: return "JSON";
    }
    return "?";
}

storage_error bad_type(std::string why) {
    return make_error(storage_errc::bad_definition, std::move(why));
}

}  // namespace

std::optional<std::string_view> find_property(const properties& props, std::string_view key) {
    for (const auto& [k, v] : props) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

std::string column_type::to_sql() const {
    switch (kind) {
    case type_kind::decimal: return fmt::format("DECIMAL({}, {})", precision, scale);
    case type_kind::char_: return fmt::format("CHAR({})", length);
    case type_kind::varchar: return fmt::format("VARCHAR({})", length);
    default: return std::string(canonical_name(kind));
    }
}

storage_result<column_type> column_type::from_name(std::string_view name, std::span<const int> params) {
    std::string wanted = ascii_upper(name);
    auto it = std::find_if(type_names.begin(), type_names.end(), [&](const type_name& t) { return t.name == wanted; });
    if (it == type_names.end()) {
        return bad_type(fmt::format("Unknown data type '{}'", name));
    }
    column_type t;
    t.kind = it->kind;
    switch (t.kind) {
    case type_kind::decimal: {
        if (params.size() > 2) {
            return bad_type(fmt::format("Too many parameters for type {}", wanted));
        }
        t.precision = params.empty() ? std::min(default_decimal_precision, it->decimal_max_precision) : params[0];
        t.scale = params.size() == 2 ? params[1] : 0;
        if (t.precision < 1 || t.precision > it->decimal_max_precision) {
            return bad_type(fmt::format("DECIMAL's precision should range from 1 to {}, got {}",
                                        it->decimal_max_precision, t.precision));
        }
        if (t.scale < 0 || t.scale > t.precision) {
            return bad_type(
                fmt::format("DECIMAL's scale should range from 0 to precision {}, got {}", t.precision, t.scale));
        }
        return t;
    }
    case type_kind::char_:
    case type_kind::varchar: {
        int limit = t.kind == type_kind::char_ ? max_char_length : max_varchar_length;
        if (params.size() > 1) {
            return bad_type(fmt::format("Too many parameters for type {}", wanted));
        }
        t.length = params.empty() ? 1 : params[0];
        if (t.length < 1 || t.length > limit) {
            return bad_type(fmt::format("{} length should range from 1 to {}, got {}", canonical_name(t.kind), limit,
                                        t.length));
        }
        return t;
    }
    case type_kind::tinyint:
    case type_kind::smallint:
    case type_kind::int_:
    case type_kind::bigint:
    case type_kind::largeint:
        // INT(11): MySQL's display width, which clients still send; it changes nothing.
        if (params.size() > 1) {
            return bad_type(fmt::format("Too many parameters for type {}", wanted));
        }
        return t;
    default:
        if (!params.empty()) {
            return bad_type(fmt::format("Type {} takes no parameters", wanted));
        }
        return t;
    }
}

storage_result<column_type> column_type::from_sql(std::string_view text) {
    auto open = text.find('(');
    std::string_view name = text.substr(0, open);
    std::vector<int> params;
    if (open != std::string_view::npos) {
        auto close = text.rfind(')');
        if (close == std::string_view::npos || close < open) {
            return bad_type(fmt::format("Malformed type '{}'", text));
        }
        std::string_view inside = text.substr(open + 1, close - open - 1);
        while (!inside.empty()) {
            while (!inside.empty() && (inside.front() == ' ' || inside.front() == ',')) {
                inside.remove_prefix(1);
            }
            if (inside.empty()) {
                break;
            }
            int value = 0;
            auto [end, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), value);
            if (ec != std::errc{}) {
                return bad_type(fmt::format("Malformed type '{}'", text));
            }
            params.push_back(value);
            inside.remove_prefix(static_cast<size_t>(end - inside.data()));
        }
    }
    return from_name(name, params);
}

bool column_type::is_integer() const {
    return kind == type_kind::tinyint || kind == type_kind::smallint || kind == type_kind::int_ ||
           kind == type_kind::bigint || kind == type_kind::largeint;
}

bool column_type::is_string() const {
    return kind == type_kind::char_ || kind == type_kind::varchar || kind == type_kind::string;
}

bool column_type::is_floating() const {
    return kind == type_kind::float_ || kind == type_kind::double_;
}

uint64_t rowset::rows() const {
    uint64_t n = 0;
    for (const auto& f : files) {
        n += f.rows;
    }
    return n;
}

uint64_t rowset::data_size() const {
    uint64_t n = 0;
    for (const auto& f : files) {
        n += f.size;
    }
    return n;
}

std::string_view aggregation_name(aggregation a) {
    switch (a) {
    case aggregation::none: return "";
    case aggregation::sum: return "SUM";
    case aggregation::min: return "MIN";
    case aggregation::max: return "MAX";
    case aggregation::replace: return "REPLACE";
    case aggregation::replace_if_not_null: return "REPLACE_IF_NOT_NULL";
    case aggregation::hll_union: return "HLL_UNION";
    case aggregation::bitmap_union: return "BITMAP_UNION";
    }
    return "?";
}

std::string_view key_model_name(key_model m) {
    switch (m) {
    case key_model::duplicate: return "DUPLICATE KEY";
    case key_model::aggregate: return "AGGREGATE KEY";
    case key_model::unique: return "UNIQUE KEY";
    case key_model::primary: return "PRIMARY KEY";
    }
    return "?";
}

std::string_view privilege_name(privilege p) {
    return p == privilege::select ? "SELECT" : "INSERT";
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

const column* table::find_column(std::string_view wanted) const {
    for (const auto& c : columns) {
        if (iequals(c.name, wanted)) {
            return &c;
        }
    }
    return nullptr;
}

const partition* table::find_partition(std::string_view wanted) const {
    for (const auto& p : partitioning.partitions) {
        if (iequals(p.name, wanted)) {
            return &p;
        }
    }
    return nullptr;
}

const materialized_index* table::find_index(std::string_view wanted) const {
    for (const auto& i : indexes) {
        if (i.name == wanted) {
            return &i;
        }
    }
    return nullptr;
}

std::string function::signature() const {
    std::string out = name + "(";
    for (size_t i = 0; i < arg_types.size(); ++i) {
        out += (i == 0 ? "" : ", ") + arg_types[i];
    }
    if (variadic) {
        out += arg_types.empty() ? "..." : ", ...";
    }
    return out + ")";
}

std::string user::identity() const {
    return fmt::format("'{}'@'{}'", name, host);
}

}  // namespace tv::storage
