// SPDX-License-Identifier: Apache-2.0
// The table of system variables.
#include "io/ascii.hh"
#include "sql/variables.hh"

#include "tv_version.hh"

#include <array>

namespace tv::sql {

namespace {

constexpr std::array k_variables = {
    system_variable{"auto_increment_increment", "1", true},
    system_variable{"autocommit", "1", true},
    system_variable{"character_set_client", "utf8mb4", false},
    system_variable{"character_set_connection", "utf8mb4", false},
    system_variable{"character_set_database", "utf8mb4", false},
    system_variable{"character_set_results", "utf8mb4", false},
    system_variable{"character_set_server", "utf8mb4", false},
    system_variable{"collation_connection", "utf8mb4_general_ci", false},
    system_variable{"collation_database", "utf8mb4_general_ci", false},
    system_variable{"collation_server", "utf8mb4_general_ci", false},
    system_variable{"exec_mem_limit", "2147483648", true},
    system_variable{"init_connect", "", false},
    system_variable{"interactive_timeout", "3600", true},
    system_variable{"language", "/starrocks/share/english/", false, true},
    system_variable{"license", "Apache License 2.0", false, true},
    system_variable{"lower_case_table_names", "0", true, true},
    system_variable{"max_allowed_packet", "67108864", true},
    system_variable{"net_buffer_length", "16384", true},
    system_variable{"net_write_timeout", "60", true},
    system_variable{"query_cache_size", "1048576", true},
    system_variable{"query_cache_type", "0", true},
    system_variable{"query_mem_limit", "0", true},
    system_variable{"query_timeout", "300", true},
    system_variable{"sql_mode", "ONLY_FULL_GROUP_BY", false},
    system_variable{"sql_select_limit", "18446744073709551615", true},
    system_variable{"system_time_zone", "UTC", false, true},
    system_variable{"time_zone", "UTC", false},
    system_variable{"transaction_isolation", "REPEATABLE-READ", false},
    system_variable{"transaction_read_only", "0", true},
    system_variable{"tx_isolation", "REPEATABLE-READ", false},
    system_variable{"tx_read_only", "0", true},
    system_variable{"version", "8.0.33", false, true},
    system_variable{"version_comment", "tabletvault " TV_VERSION, false, true},
    system_variable{"wait_timeout", "28800", true},
};

}  // namespace

std::span<const system_variable> system_variables() {
    return k_variables;
}

const system_variable* find_system_variable(std::string_view name) {
    std::string key = ascii_lower(name);
    for (const auto& v : k_variables) {
        if (v.name == key) {
            return &v;
        }
    }
    return nullptr;
}

std::optional<std::string> variable_value(const session& s, std::string_view name) {
    const system_variable* v = find_system_variable(name);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (auto it = s.variables.find(v->name); it != s.variables.end()) {
        return it->second;
    }
    return std::string(v->default_value);
}

}  // namespace tv::sql
