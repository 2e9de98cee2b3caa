// SPDX-License-Identifier: Apache-2.0
// Local repository locations: normalization, symlink resolution and the data-directory and
// allowed-roots checks. Resolution uses realpath (std::filesystem) outside io_uring: it runs
// once per CREATE REPOSITORY, and io_uring has no readlink.
#include "remote/local_location.hh"

#include "io/ascii.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <system_error>

namespace tv::remote {

namespace {

remote_error bad(std::string message) {
    return make_remote_error(remote_errc::bad_config, std::move(message));
}

/// Whether `inner` is `outer` or lies below it (both normalized, absolute).
bool is_within(std::string_view inner, std::string_view outer) {
    if (outer == "/") {
        return true;
    }
    return inner == outer || (inner.starts_with(outer) && inner[outer.size()] == '/');
}

}  // namespace

remote_result<std::string> normalize_local_path(std::string_view path, std::string_view what) {
    if (!path.starts_with("/")) {
        return bad(fmt::format("Invalid {} '{}': it must be an absolute path", what, path));
    }
    std::string out;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string_view segment = path.substr(start, end - start);
        if (segment == "..") {
            return bad(fmt::format("Invalid {} '{}': '..' segments are not allowed", what, path));
        }
        if (!segment.empty() && segment != ".") {
            out += '/';
            out += segment;
        }
        start = end + 1;
    }
    return out.empty() ? std::string("/") : out;
}

remote_result<std::string> resolve_local_path(const std::string& path) {
    std::error_code ec;
    // weakly_canonical: realpath of the longest existing prefix, the rest appended as it is
    // (normalized above, so it has no '..' that could climb out of a resolved symlink).
    auto resolved = std::filesystem::weakly_canonical(path, ec);
    if (ec) {
        return from_error_code(ec, fmt::format("resolve {}", path));
    }
    std::string text = resolved.string();
    while (text.size() > 1 && text.back() == '/') {
        text.pop_back();
    }
    return text;
}

remote_result<std::string> check_local_location(std::string_view location, const std::string& path,
                                                const local_location_rules& rules) {
    auto resolved = resolve_local_path(path);
    if (!resolved) {
        return resolved.error();
    }
    std::string shown = *resolved == path ? std::string{} : fmt::format(" (resolved to {})", *resolved);
    if (!rules.data_dir.empty()) {
        auto data_dir = resolve_local_path(rules.data_dir);
        if (!data_dir) {
            return data_dir.error();
        }
        if (is_within(*resolved, *data_dir)) {
            return bad(fmt::format("Repository location '{}'{} is inside the server's data directory {}: "
                                   "choose a directory outside it",
                                   location, shown, *data_dir));
        }
        if (is_within(*data_dir, *resolved)) {
            return bad(fmt::format("Repository location '{}'{} contains the server's data directory {}: "
                                   "choose a directory outside it",
                                   location, shown, *data_dir));
        }
    }
    if (rules.roots.empty()) {
        return resolved;
    }
    for (const auto& root : rules.roots) {
        auto resolved_root = resolve_local_path(root);
        if (resolved_root && is_within(*resolved, *resolved_root)) {
            return resolved;
        }
    }
    return bad(fmt::format("Repository location '{}'{} is outside the directories local repositories may use "
                           "(local_repository_roots: {})",
                           location, shown, fmt::join(rules.roots, ", ")));
}

remote_result<std::vector<std::string>> parse_local_roots(std::string_view text) {
    std::vector<std::string> roots;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view item = trim_blanks(text.substr(start, end - start));
        start = end + 1;
        if (item.empty()) {
            continue;
        }
        auto normalized = normalize_local_path(item, "local_repository_roots entry");
        if (!normalized) {
            return normalized.error();
        }
        roots.push_back(std::move(*normalized));
    }
    return roots;
}

}  // namespace tv::remote
