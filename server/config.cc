// SPDX-License-Identifier: Apache-2.0
// Validation, file parsing and the reference table for configuration keys.
#include "server/config.hh"

#include "io/log.hh"

#include <fmt/format.h>

#include <charconv>
#include <fstream>

namespace tv::server {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<int64_t> parse_integer(std::string_view text) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

std::string allowed_text(const config_key& key) {
    switch (key.type) {
    case key_type::integer:
        return fmt::format("an integer from {} to {}", key.min, key.max);
    case key_type::size:
        return fmt::format("a byte size from {} to {} (suffixes K, M, G)", key.min, key.max);
    case key_type::string:
        return "any text";
    case key_type::choice: {
        std::string list;
        for (auto c : key.choices) {
            list += fmt::format("{}{}", list.empty() ? "" : ", ", c);
        }
        return "one of " + list;
    }
    }
    return {};
}

}  // namespace

const config_key* find_config_key(std::string_view name) {
    for (const auto& key : config_keys()) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

std::optional<int64_t> parse_size(std::string_view text) {
    int64_t multiplier = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 'k': case 'K': multiplier = int64_t{1} << 10; break;
        case 'm': case 'M': multiplier = int64_t{1} << 20; break;
        case 'g': case 'G': multiplier = int64_t{1} << 30; break;
        default: break;
        }
        if (multiplier != 1) {
            text.remove_suffix(1);
        }
    }
    auto number = parse_integer(text);
    if (!number || *number < 0 || *number > INT64_MAX / multiplier) {
        return std::nullopt;
    }
    return *number * multiplier;
}

config::config() {
    for (const auto& key : config_keys()) {
        // Size defaults are written as people write them ("256M"); values are kept in bytes.
        std::string value = key.type == key_type::size ? std::to_string(*parse_size(key.default_value))
                                                       : std::string(key.default_value);
        _values.emplace(std::string(key.name), std::move(value));
    }
}

std::optional<std::string> config::set(std::string_view name, std::string_view raw) {
    const config_key* key = find_config_key(name);
    if (key == nullptr) {
        return fmt::format("unknown config key '{}' (`tabletvault config-reference` lists every key)", name);
    }
    std::string_view value = trim(raw);
    auto bad = [&] {
        return fmt::format("config key '{}': invalid value '{}'; allowed: {}", name, value, allowed_text(*key));
    };
    switch (key->type) {
    case key_type::integer:
    case key_type::size: {
        auto number = key->type == key_type::integer ? parse_integer(value) : parse_size(value);
        if (!number || *number < key->min || *number > key->max) {
            return bad();
        }
        _values[std::string(name)] = std::to_string(*number);
        return std::nullopt;
    }
    case key_type::choice:
        for (auto choice : key->choices) {
            if (choice == value) {
                _values[std::string(name)] = std::string(value);
                return std::nullopt;
            }
        }
        return bad();
    case key_type::string:
        _values[std::string(name)] = std::string(value);
        return std::nullopt;
    }
    return bad();
}

std::optional<std::string> config::load_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return fmt::format("cannot read config file '{}'", path);
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        std::string_view text = line;
        if (auto hash = text.find('#'); hash != std::string_view::npos) {
            text = text.substr(0, hash);
        }
        text = trim(text);
        if (text.empty()) {
            continue;
        }
        auto eq = text.find('=');
        if (eq == std::string_view::npos) {
            return fmt::format("{}:{}: expected 'key = value', got '{}'", path, number, text);
        }
        if (auto error = set(trim(text.substr(0, eq)), text.substr(eq + 1))) {
            return fmt::format("{}:{}: {}", path, number, *error);
        }
    }
    return std::nullopt;
}

int64_t config::integer_of(std::string_view key) const {
    return *parse_integer(_values.find(key)->second);
}

const std::string& config::text_of(std::string_view key) const {
    return _values.find(key)->second;
}

std::span<const config_key> config_keys() {
    return config_key_table;
}

std::string_view key_type_name(key_type t) {
    switch (t) {
    case key_type::integer: return "integer";
    case key_type::size: return "size";
    case key_type::choice: return "choice";
    case key_type::string: return "string";
    }
    return "string";
}

std::optional<std::string> apply_runtime_changes(config& cfg,
                                                 const std::vector<std::pair<std::string, std::string>>& changes) {
    config trial = cfg;
    for (const auto& [key, value] : changes) {
        const config_key* entry = find_config_key(key);
        if (entry == nullptr) {
            return fmt::format("unknown config key '{}'", key);
        }
        if (!entry->runtime_mutable) {
            return fmt::format("config key '{}' cannot change while the server runs; set it in the config file or "
                               "with --set and restart",
                               key);
        }
        if (auto error = trial.set(key, value)) {
            return error;
        }
    }
    cfg = std::move(trial);
    for (const auto& [key, value] : changes) {
        if (key == "log_level") {
            log::set_level(*log::parse_level(cfg.get<"log_level">()));
        }
        TV_LOG_INFO("config {} set to '{}' at run time", key, cfg.text_of(key));
    }
    return std::nullopt;
}

std::string config_reference_markdown() {
    std::string out = "| key | type | default | run-time change | allowed | description |\n"
                      "| --- | --- | --- | --- | --- | --- |\n";
    for (const auto& key : config_keys()) {
        std::string_view type = key_type_name(key.type);
        out += fmt::format("| `{}` | {} | `{}` | {} | {} | {} |\n", key.name, type, key.default_value,
                           key.runtime_mutable ? "yes" : "no", allowed_text(key), key.doc);
    }
    return out;
}

}  // namespace tv::server
