// SPDX-License-Identifier: Apache-2.0
// Where a local repository may live: its location resolved (symlinks followed) and checked
// against the server's data directory and the operator's list of allowed roots, so that
// CREATE REPOSITORY cannot make the server (often root) create directories anywhere.
#pragma once

#include "remote/remote_error.hh"

#include <string>
#include <string_view>
#include <vector>

namespace tv::remote {

struct local_location_rules {
    /// The server's data directory: refused as a location, with everything inside it and every
    /// directory that contains it (a repository there could overwrite, or be, live data).
    std::string data_dir;
    /// Absolute directories local repositories must lie in (the directory itself or below);
    /// empty: anywhere.
    std::vector<std::string> roots;
};

/// The absolute, normalized form of `path` ('//' and '.' segments removed, no trailing '/'), or
/// bad_config when it is relative or has a '..' segment (`what` names it in the message).
remote_result<std::string> normalize_local_path(std::string_view path, std::string_view what);

/// `path` with its longest existing prefix resolved by realpath (symlinks followed) and the
/// rest appended: where the directories would really be created.
remote_result<std::string> resolve_local_path(const std::string& path);

/// Checks a local repository's directory (`location` is as the user wrote it, for messages):
/// the resolved path must not be, lie in, or contain the data directory, and must lie in one of
/// the roots when any are given. Yields the resolved path; errors are bad_config and name the
/// location and the roots.
remote_result<std::string> check_local_location(std::string_view location, const std::string& path,
                                                const local_location_rules& rules);

/// "local_repository_roots" as configured: a comma-separated list of absolute directories,
/// blanks around items ignored. An error names the item at fault.
remote_result<std::vector<std::string>> parse_local_roots(std::string_view text);

}  // namespace tv::remote
