// SPDX-License-Identifier: Apache-2.0
// catalog_state: everything the catalog knows, as one value; the image is its serialization.
#pragma once

#include "storage/catalog_types.hh"

#include <compare>
#include <map>
#include <string>
#include <vector>

namespace tv::storage {

/// The first id handed out in a new catalog (StarRocks starts near 10000 as well, which keeps
/// our ids clear of small constants in backup metadata).
inline constexpr object_id first_object_id = 10001;

struct user_key {
    std::string name;
    std::string host;

    friend auto operator<=>(const user_key&, const user_key&) = default;
};

struct catalog_state {
    object_id next_id = first_object_id;
    std::map<std::string, database> databases;
    std::map<std::string, external_catalog> catalogs;
    std::vector<function> global_functions;
    std::map<user_key, user> users;  // never holds root, which is built in
    std::map<std::string, repository> repositories;
    /// Tablet id -> its published rowsets in version order; a tablet with no data has no entry.
    std::map<object_id, std::vector<rowset>> tablet_rowsets;
};

}  // namespace tv::storage
