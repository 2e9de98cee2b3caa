// SPDX-License-Identifier: Apache-2.0
// System variables: the ones MySQL clients and connectors read or set on connect, with their
// defaults. SET changes a session's copy; SHOW VARIABLES and @@name read it.
#pragma once

#include "sql/session.hh"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tv::sql {

struct system_variable {
    std::string_view name;
    std::string_view default_value;
    bool numeric;            // shown to clients as a number (affects @@x result typing)
    bool read_only = false;  // describes the server; SET answers error 1238
};

std::span<const system_variable> system_variables();
const system_variable* find_system_variable(std::string_view name);

/// The session's value, else the default; nullopt for an unknown name. Names are matched
/// case-insensitively, as MySQL does.
std::optional<std::string> variable_value(const session& s, std::string_view name);

}  // namespace tv::sql
