// SPDX-License-Identifier: Apache-2.0
// Configuration: one registry of keys (name, type, default, allowed values, doc, whether it can
// change at run time) and the values in force, read from a `key = value` file and --set flags.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tv::server {

enum class key_type { integer, size, string, choice };

struct config_key {
    std::string_view name;
    key_type type;
    std::string_view default_value;
    std::string_view doc;
    bool runtime_mutable;        // changeable with /api/update_config (and ADMIN SET FRONTEND CONFIG)
    int64_t min = 0;             // integer and size keys
    int64_t max = 0;
    std::vector<std::string_view> choices = {};  // choice keys
};

/// Every key the server knows, in documentation order (server/config_keys.cc).
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

    int64_t get_int(std::string_view key) const;  // integer and size keys
    const std::string& get_string(std::string_view key) const;

private:
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
