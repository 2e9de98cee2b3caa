// SPDX-License-Identifier: Apache-2.0
// Configuration: one registry of keys (name, type, default, allowed values, doc, whether it can
// change at run time) and the values in force, read from a `key = value` file and --set flags.
#pragma once

#include "server/config_keys.hh"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tv::server {

/// Every key the server knows, in documentation order (server/config_keys.hh).
std::span<const config_key> config_keys();
const config_key* find_config_key(std::string_view name);

class config {
public:
    /// Every key at its default.
    config();

    /// Validates and sets one key. Returns the error message for an unknown key or a bad value;
    /// the message names the key, the value and what is allowed.
    std::optional<std::string> set(std::string_view key, std::string_view value);

    /// Reads `key = value` lines; `#` starts a comment; blank lines are skipped. Stops at the
    /// first bad line with a message naming the file and line.
    std::optional<std::string> load_file(const std::string& path);

    /// The value of a key named at compile time: int64_t for integer and size keys, the text
    /// for string and choice keys.
    template <key_literal Key>
    decltype(auto) get() const {
        constexpr key_type type = declared_key(Key.view()).type;
        if constexpr (type == key_type::integer || type == key_type::size) {
            return integer_of(Key.view());
        } else {
            return text_of(Key.view());
        }
    }

    /// The canonical text of any key of the registry (for listings).
    const std::string& text_of(std::string_view key) const;

private:
    int64_t integer_of(std::string_view key) const;

    std::map<std::string, std::string, std::less<>> _values;  // canonical text
};

/// "integer", "size", "string", "choice".
std::string_view key_type_name(key_type t);

/// A run-time change of several keys (/api/update_config, ADMIN SET FRONTEND CONFIG): every key
/// must exist and be changeable at run time and every value valid, else nothing changes and the
/// reason is returned. Applied changes take effect at once (log level, ...) and are logged.
std::optional<std::string> apply_runtime_changes(config& cfg,
                                                 const std::vector<std::pair<std::string, std::string>>& changes);

/// Parses "256M", "1g", "4096" (binary multiples) into bytes.
std::optional<int64_t> parse_size(std::string_view text);

/// The Markdown table of every key, which docs/configuration.md embeds verbatim.
std::string config_reference_markdown();

}  // namespace tv::server
