// SPDX-License-Identifier: Apache-2.0
// Load column lists: resolution against the table and completion of supplied rows with defaults.
#include "sql/load/load_columns.hh"

#include "io/ascii.hh"
#include "io/printable.hh"
#include "storage/values.hh"

#include <chrono>
#include <random>
#include <fmt/chrono.h>

namespace tv::sql {

namespace {

storage::column_desc desc_of(const storage::column& c) {
    return {c.name, c.type, c.nullable};
}

/// DEFAULT CURRENT_TIMESTAMP: the load's start, as a DATETIME (or DATE) text.
std::string now_text() {
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return fmt::format("{:%Y-%m-%d %H:%M:%S}", now);
}

}  // namespace

std::string generated_load_label(std::string_view kind) {
    std::random_device rd;
    return fmt::format("{}_{:08x}{:08x}", kind, rd(), rd());
}

sql_result<load_columns> load_columns::resolve(const storage::table& t,
                                               const std::vector<std::string>& names) {
    load_columns out;
    std::vector<int> position(t.columns.size(), -1);
    if (names.empty()) {
        for (size_t i = 0; i < t.columns.size(); ++i) {
            position[i] = static_cast<int>(i);
            out._supplied.push_back(desc_of(t.columns[i]));
        }
    }
    for (const auto& name : names) {
        size_t i = 0;
        while (i < t.columns.size() && !storage::iequals(t.columns[i].name, name)) {
            ++i;
        }
        if (i == t.columns.size()) {
            return make_error(errc::bad_field, "Unknown column '{}' in '{}'", printable_value(name), t.name);
        }
        if (position[i] >= 0) {
            return make_error(errc::duplicate_field, "Column '{}' specified twice", t.columns[i].name);
        }
        position[i] = static_cast<int>(out._supplied.size());
        out._supplied.push_back(desc_of(t.columns[i]));
    }
    for (size_t i = 0; i < t.columns.size(); ++i) {
        const auto& c = t.columns[i];
        out._full.push_back(desc_of(c));
        filler f{position[i], storage::column_vector(storage::physical_of(c.type.kind), c.nullable)};
        if (position[i] < 0) {
            if (!c.default_value || c.default_value->kind == storage::default_kind::null) {
                if (!c.nullable) {
                    return make_error(errc::unknown, "Column has no default value, column={}", c.name);
                }
                f.value.append_null();
            } else {
                std::string text = c.default_value->kind == storage::default_kind::current_timestamp
                                       ? now_text()
                                       : c.default_value->text;
                auto value = storage::parse_typed(c.type, text);
                if (!value) {
                    return make_error(errc::unknown, "Invalid default value for '{}': {}", c.name,
                                      value.error().message);
                }
                f.value.append(value->as_cell());
            }
        }
        out._fillers.push_back(std::move(f));
    }
    return out;
}

storage::column_batch load_columns::complete(storage::column_batch rows) const {
    if (rows.schema() == _full) {
        return rows;  // every column supplied in table order: nothing to copy
    }
    size_t n = rows.num_rows();
    std::vector<storage::column_vector> supplied = rows.release_columns();
    std::vector<storage::column_vector> columns;
    columns.reserve(_full.size());
    for (const auto& f : _fillers) {
        if (f.supplied_index >= 0) {
            columns.push_back(std::move(supplied[static_cast<size_t>(f.supplied_index)]));  // each is used once
            continue;
        }
        storage::column_vector filled(f.value.type(), f.value.nullable());
        filled.reserve(n, f.value.type() == storage::physical_type::bytes ? n * f.value.bytes().size() : 0);
        storage::cell v = f.value.get(0);
        for (size_t r = 0; r < n; ++r) {
            filled.append(v);
        }
        columns.push_back(std::move(filled));
    }
    return storage::column_batch(_full, std::move(columns));
}

}  // namespace tv::sql
